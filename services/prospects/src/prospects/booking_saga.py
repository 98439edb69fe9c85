"""The booking saga's state machine, in one place.

``decide(booking, message, now)`` maps a booking's state and one message (an HTTP command, an
answer from units or buyers, a unit released on its card, or the deadline check) to the
booking's new state, the events to publish and, when nothing changes, the reason why. The API
commands, the Kafka consumers and the deadline sweeper all go through it; nothing else changes
a booking. It does no I/O: handlers load the booking, call it, and store the result together
with the events in one transaction.

    pending ── UnitReserved + BuyerCreated (either order) ─────────► confirmed  BookingConfirmed
               (buyers makes the copy on UnitReserved, so BuyerCreated means the unit is held,
               but the two answers travel on different topics and may arrive in either order)
    pending ── UnitReservationRejected | BuyerCreationFailed ─────► rejected   BookingRejected{reason}
    pending ── deadline passed ───────────────────────────────────► rejected   BookingRejected{timeout}
    pending | confirmed ── cancel | UnitReleased | last buyer out ► cancelled  BookingCancelled
    confirmed ── add / remove a co-buyer ─────────────────────────► confirmed  CoBuyerAdded | CoBuyerRemoved

``rejected`` and ``cancelled`` are final: answers arriving after them are ignored, because the
BookingRejected/BookingCancelled that ended the booking already tells every participant to undo
whatever it did (and they see it after the BookingRequested: same unit key, same partition).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    CoBuyerAdded,
    CoBuyerRemoved,
)
from contracts.buyers import BuyerCreated, BuyerCreationFailed
from contracts.envelope import Event
from contracts.types import BookingStatus, ProspectSnapshot
from contracts.units import UnitReleased, UnitReservationRejected, UnitReserved

PENDING = BookingStatus.PENDING
CONFIRMED = BookingStatus.CONFIRMED
REJECTED = BookingStatus.REJECTED
CANCELLED = BookingStatus.CANCELLED
ENDED = frozenset({REJECTED, CANCELLED})


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


class Reason:
    """Why a booking ended, or why a message changed nothing."""

    # a booking ends with these (besides the reasons units and buyers give)
    TIMEOUT = "timeout"
    UNIT_RELEASED = "unit_released"
    LAST_BUYER_REMOVED = "last_buyer_removed"
    # commands that are refused (the API answers 409, or 404 for not_a_buyer)
    BOOKING_ALREADY_FINAL = "booking_already_final"
    BOOKING_NOT_CONFIRMED = "booking_not_confirmed"
    ALREADY_A_BUYER = "already_a_buyer"
    NOT_A_BUYER = "not_a_buyer"
    BOOKING_EXISTS = "booking_exists"
    # messages that are ignored
    UNKNOWN_BOOKING = "unknown_booking"
    DUPLICATE_ANSWER = "duplicate_answer"
    LATE_ANSWER = "late_answer"
    NOT_DUE = "not_due"
    NOT_PENDING = "not_pending"


@dataclass(frozen=True)
class Booking:
    booking_id: UUID
    unit_id: UUID
    prospect_id: UUID  # the prospect it was booked for
    status: BookingStatus
    buyers: tuple[UUID, ...]  # holder first, then co-buyers in the order they were added
    deadline_at: datetime
    reason: str | None = None
    unit_answer: Answer | None = None
    buyer_answer: Answer | None = None
    buyer_id: UUID | None = None  # the buyers service's copy, once it answered yes


# ---- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestBooking:
    booking_id: UUID
    unit_id: UUID
    prospect: ProspectSnapshot
    requested_by: str | None
    deadline: timedelta


@dataclass(frozen=True)
class CancelBooking:
    reason: str | None
    by: str | None


@dataclass(frozen=True)
class AddCoBuyer:
    prospect: ProspectSnapshot
    by: str | None


@dataclass(frozen=True)
class RemoveBuyer:
    prospect_id: UUID
    by: str | None


@dataclass(frozen=True)
class CheckDeadline:
    """Sent by the sweeper for a pending booking whose deadline may have passed."""


ParticipantAnswer = UnitReserved | UnitReservationRejected | BuyerCreated | BuyerCreationFailed
Message = RequestBooking | CancelBooking | AddCoBuyer | RemoveBuyer | CheckDeadline | UnitReleased | ParticipantAnswer


@dataclass(frozen=True)
class Decision:
    booking: Booking | None
    events: tuple[Event, ...] = ()
    # set exactly when the message changed nothing: why (a refused command's 409 code, or why an
    # event is ignored)
    reason: str | None = None


def decide(booking: Booking | None, message: Message, now: datetime) -> Decision:
    if isinstance(message, RequestBooking):
        return _request(booking, message, now)
    if booking is None:
        return Decision(None, reason=Reason.UNKNOWN_BOOKING)
    match message:
        case UnitReserved() | UnitReservationRejected() | BuyerCreated() | BuyerCreationFailed():
            return _answer(booking, message, now)
        case CheckDeadline():
            return _check_deadline(booking, now)
        case CancelBooking():
            return _cancel(booking, message.reason, message.by, now)
        case UnitReleased():
            return _cancel(booking, message.reason or Reason.UNIT_RELEASED, message.released_by, now)
        case AddCoBuyer():
            return _add_co_buyer(booking, message, now)
        case RemoveBuyer():
            return _remove_buyer(booking, message, now)
    raise TypeError(f"the booking saga has no rule for {type(message).__name__}")


def _request(booking: Booking | None, cmd: RequestBooking, now: datetime) -> Decision:
    if booking is not None:
        return Decision(booking, reason=Reason.BOOKING_EXISTS)
    new = Booking(
        booking_id=cmd.booking_id,
        unit_id=cmd.unit_id,
        prospect_id=cmd.prospect.prospect_id,
        status=PENDING,
        buyers=(cmd.prospect.prospect_id,),
        deadline_at=now + cmd.deadline,
    )
    requested = BookingRequested(
        booking_id=cmd.booking_id, unit_id=cmd.unit_id, prospect=cmd.prospect, requested_by=cmd.requested_by, **_envelope(new, now)
    )
    return Decision(new, (requested,))


def _answer(booking: Booking, answer: ParticipantAnswer, now: datetime) -> Decision:
    if booking.status is not PENDING:
        return Decision(booking, reason=Reason.LATE_ANSWER)
    from_units = isinstance(answer, (UnitReserved, UnitReservationRejected))
    if (booking.unit_answer if from_units else booking.buyer_answer) is not None:
        return Decision(booking, reason=Reason.DUPLICATE_ANSWER)
    match answer:
        case UnitReservationRejected():
            return _reject(replace(booking, unit_answer=Answer.NO), answer.reason, now)
        case BuyerCreationFailed():
            return _reject(replace(booking, buyer_answer=Answer.NO), answer.reason, now)
        case UnitReserved():
            booking = replace(booking, unit_answer=Answer.YES)
        case BuyerCreated():
            booking = replace(booking, buyer_answer=Answer.YES, buyer_id=answer.buyer_id)
    if booking.unit_answer is Answer.YES and booking.buyer_answer is Answer.YES:
        confirmed = BookingConfirmed(
            booking_id=booking.booking_id, unit_id=booking.unit_id, prospect_id=booking.prospect_id, **_envelope(booking, now)
        )
        return Decision(replace(booking, status=CONFIRMED), (confirmed,))
    return Decision(booking)


def _reject(booking: Booking, reason: str, now: datetime) -> Decision:
    rejected = BookingRejected(
        booking_id=booking.booking_id,
        unit_id=booking.unit_id,
        prospect_id=booking.prospect_id,
        reason=reason,
        unit_refused=booking.unit_answer is Answer.NO,
        **_envelope(booking, now),
    )
    return Decision(replace(booking, status=REJECTED, reason=reason), (rejected,))


def _check_deadline(booking: Booking, now: datetime) -> Decision:
    if booking.status is not PENDING:
        return Decision(booking, reason=Reason.NOT_PENDING)
    if now < booking.deadline_at:
        return Decision(booking, reason=Reason.NOT_DUE)
    return _reject(booking, Reason.TIMEOUT, now)


def _cancel(booking: Booking, reason: str | None, by: str | None, now: datetime) -> Decision:
    if booking.status in ENDED:
        return Decision(booking, reason=Reason.BOOKING_ALREADY_FINAL)
    cancelled = BookingCancelled(
        booking_id=booking.booking_id,
        unit_id=booking.unit_id,
        prospect_ids=list(booking.buyers),
        reason=reason,
        cancelled_by=by,
        **_envelope(booking, now),
    )
    return Decision(replace(booking, status=CANCELLED, reason=reason), (cancelled,))


def _add_co_buyer(booking: Booking, cmd: AddCoBuyer, now: datetime) -> Decision:
    if booking.status is not CONFIRMED:
        return Decision(booking, reason=Reason.BOOKING_NOT_CONFIRMED)
    if cmd.prospect.prospect_id in booking.buyers:
        return Decision(booking, reason=Reason.ALREADY_A_BUYER)
    added = CoBuyerAdded(booking_id=booking.booking_id, unit_id=booking.unit_id, prospect=cmd.prospect, **_envelope(booking, now))
    return Decision(replace(booking, buyers=(*booking.buyers, cmd.prospect.prospect_id)), (added,))


def _remove_buyer(booking: Booking, cmd: RemoveBuyer, now: datetime) -> Decision:
    if booking.status is not CONFIRMED:
        return Decision(booking, reason=Reason.BOOKING_NOT_CONFIRMED)
    if cmd.prospect_id not in booking.buyers:
        return Decision(booking, reason=Reason.NOT_A_BUYER)
    if booking.buyers == (cmd.prospect_id,):
        return _cancel(booking, Reason.LAST_BUYER_REMOVED, cmd.by, now)
    removed = CoBuyerRemoved(booking_id=booking.booking_id, unit_id=booking.unit_id, prospect_id=cmd.prospect_id, **_envelope(booking, now))
    return Decision(replace(booking, buyers=tuple(b for b in booking.buyers if b != cmd.prospect_id)), (removed,))


def _envelope(booking: Booking, now: datetime) -> dict:
    # the booking id correlates every step of one booking across the services
    return {"correlation_id": booking.booking_id, "occurred_at": now}


def buyers_affected(before: Booking | None, after: Booking | None) -> set[UUID]:
    """Prospects whose status (prospect/buyer) may have changed with this decision: only a
    booking that is confirmed before or after it makes or unmakes buyers."""
    if not any(b is not None and b.status is BookingStatus.CONFIRMED for b in (before, after)):
        return set()
    return set(before.buyers if before else ()) | set(after.buyers if after else ())
