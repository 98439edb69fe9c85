"""Every (booking state × message) cell of the booking saga, as one table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID, uuid4

import pytest
from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    CoBuyerAdded,
    CoBuyerRemoved,
)
from contracts.buyers import BuyerCreated, BuyerCreationFailed
from contracts.types import BookingStatus, ProspectSnapshot
from contracts.units import UnitReleased, UnitReservationRejected, UnitReserved

from prospects.booking_saga import (
    AddCoBuyer,
    Answer,
    Booking,
    CancelBooking,
    CheckDeadline,
    Reason,
    RemoveBuyer,
    RequestBooking,
    buyers_affected,
    decide,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEADLINE = timedelta(seconds=30)
BOOKING, UNIT, BUYER_COPY = uuid4(), uuid4(), uuid4()
HOLDER, CO_BUYER, STRANGER = uuid4(), uuid4(), uuid4()


def snapshot(prospect_id: UUID, first: str = "Åsa") -> ProspectSnapshot:
    return ProspectSnapshot(prospect_id=prospect_id, first_name=first, last_name="Öberg", email="asa@example.se", phone="070-123 45 67")


PENDING = Booking(
    booking_id=BOOKING, unit_id=UNIT, prospect_id=HOLDER, status=BookingStatus.PENDING, buyers=(HOLDER,), deadline_at=NOW + DEADLINE
)
CONFIRMED = replace(PENDING, status=BookingStatus.CONFIRMED, unit_answer=Answer.YES, buyer_answer=Answer.YES, buyer_id=BUYER_COPY)

STATES: dict[str, Booking | None] = {
    "none": None,
    "pending": PENDING,
    "pending, unit said yes": replace(PENDING, unit_answer=Answer.YES),
    "pending, buyer said yes": replace(PENDING, buyer_answer=Answer.YES, buyer_id=BUYER_COPY),
    "pending, overdue": replace(PENDING, deadline_at=NOW - timedelta(seconds=1)),
    "confirmed": CONFIRMED,
    "confirmed with co-buyer": replace(CONFIRMED, buyers=(HOLDER, CO_BUYER)),
    "rejected": replace(PENDING, status=BookingStatus.REJECTED, reason="unit_not_available", unit_answer=Answer.NO),
    "cancelled": replace(CONFIRMED, status=BookingStatus.CANCELLED, reason="changed their mind"),
}

MESSAGES = {
    "RequestBooking": RequestBooking(BOOKING, UNIT, snapshot(HOLDER), "agent", DEADLINE),
    "UnitReserved": UnitReserved(unit_id=UNIT, booking_id=BOOKING),
    "UnitReservationRejected": UnitReservationRejected(unit_id=UNIT, booking_id=BOOKING, reason="unit_not_available"),
    "BuyerCreated": BuyerCreated(unit_id=UNIT, booking_id=BOOKING, buyer_id=BUYER_COPY, prospect_id=HOLDER),
    "BuyerCreationFailed": BuyerCreationFailed(unit_id=UNIT, booking_id=BOOKING, reason="buyer_conflict"),
    "CheckDeadline": CheckDeadline(),
    "CancelBooking": CancelBooking("changed their mind", "agent"),
    "UnitReleased": UnitReleased(unit_id=UNIT, booking_ids=[BOOKING], released_by="agent"),
    "AddCoBuyer(new)": AddCoBuyer(snapshot(CO_BUYER, "Bo"), "agent"),
    "AddCoBuyer(holder)": AddCoBuyer(snapshot(HOLDER), "agent"),
    "RemoveBuyer(holder)": RemoveBuyer(HOLDER, "agent"),
    "RemoveBuyer(co-buyer)": RemoveBuyer(CO_BUYER, "agent"),
    "RemoveBuyer(stranger)": RemoveBuyer(STRANGER, "agent"),
}


class Then(NamedTuple):
    status: BookingStatus | None  # None: no booking
    events: tuple[type, ...] = ()
    reason: str | None = None  # why nothing changed
    booking_reason: str | None = None  # the booking's own reason afterwards
    buyers: tuple[UUID, ...] | None = None  # checked when given
    unit_answer: Answer | None = None
    buyer_answer: Answer | None = None


P, C, R, X = BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.CANCELLED


def unchanged(state: str, reason: str) -> Then:
    before = STATES[state]
    return Then(before.status if before else None, (), reason, before.reason if before else None)


def commands_on_unconfirmed(state: str) -> dict[str, Then]:
    return {
        m: unchanged(state, Reason.BOOKING_NOT_CONFIRMED)
        for m in ("AddCoBuyer(new)", "AddCoBuyer(holder)", "RemoveBuyer(holder)", "RemoveBuyer(co-buyer)", "RemoveBuyer(stranger)")
    }


def pending_row(state: str, **cells: Then) -> dict[str, Then]:
    return {
        "RequestBooking": unchanged(state, Reason.BOOKING_EXISTS),
        "UnitReserved": Then(P, unit_answer=Answer.YES),
        "UnitReservationRejected": Then(R, (BookingRejected,), booking_reason="unit_not_available", unit_answer=Answer.NO),
        "BuyerCreated": Then(P, buyer_answer=Answer.YES),
        "BuyerCreationFailed": Then(R, (BookingRejected,), booking_reason="buyer_conflict", buyer_answer=Answer.NO),
        "CheckDeadline": unchanged(state, Reason.NOT_DUE),
        "CancelBooking": Then(X, (BookingCancelled,), booking_reason="changed their mind"),
        "UnitReleased": Then(X, (BookingCancelled,), booking_reason=Reason.UNIT_RELEASED),
        **commands_on_unconfirmed(state),
        **cells,
    }


def confirmed_row(state: str, **cells: Then) -> dict[str, Then]:
    return {
        "RequestBooking": unchanged(state, Reason.BOOKING_EXISTS),
        **{a: unchanged(state, Reason.LATE_ANSWER) for a in ("UnitReserved", "UnitReservationRejected", "BuyerCreated", "BuyerCreationFailed")},
        "CheckDeadline": unchanged(state, Reason.NOT_PENDING),
        "CancelBooking": Then(X, (BookingCancelled,), booking_reason="changed their mind"),
        "UnitReleased": Then(X, (BookingCancelled,), booking_reason=Reason.UNIT_RELEASED),
        "AddCoBuyer(new)": Then(C, (CoBuyerAdded,), buyers=(HOLDER, CO_BUYER)),
        "AddCoBuyer(holder)": unchanged(state, Reason.ALREADY_A_BUYER),
        "RemoveBuyer(holder)": Then(X, (BookingCancelled,), booking_reason=Reason.LAST_BUYER_REMOVED, buyers=(HOLDER,)),
        "RemoveBuyer(co-buyer)": unchanged(state, Reason.NOT_A_BUYER),
        "RemoveBuyer(stranger)": unchanged(state, Reason.NOT_A_BUYER),
        **cells,
    }


def ended_row(state: str) -> dict[str, Then]:
    return {
        "RequestBooking": unchanged(state, Reason.BOOKING_EXISTS),
        **{a: unchanged(state, Reason.LATE_ANSWER) for a in ("UnitReserved", "UnitReservationRejected", "BuyerCreated", "BuyerCreationFailed")},
        "CheckDeadline": unchanged(state, Reason.NOT_PENDING),
        "CancelBooking": unchanged(state, Reason.BOOKING_ALREADY_FINAL),
        "UnitReleased": unchanged(state, Reason.BOOKING_ALREADY_FINAL),
        **commands_on_unconfirmed(state),
    }


TABLE: dict[str, dict[str, Then]] = {
    "none": {
        "RequestBooking": Then(P, (BookingRequested,), buyers=(HOLDER,)),
        **{m: Then(None, (), Reason.UNKNOWN_BOOKING) for m in MESSAGES if m != "RequestBooking"},
    },
    "pending": pending_row("pending"),
    "pending, unit said yes": pending_row(
        "pending, unit said yes",
        UnitReserved=unchanged("pending, unit said yes", Reason.DUPLICATE_ANSWER),
        # units already said yes; a contradicting second answer is not the one that counts
        UnitReservationRejected=unchanged("pending, unit said yes", Reason.DUPLICATE_ANSWER),
        BuyerCreated=Then(C, (BookingConfirmed,), unit_answer=Answer.YES, buyer_answer=Answer.YES),
        BuyerCreationFailed=Then(R, (BookingRejected,), booking_reason="buyer_conflict", unit_answer=Answer.YES, buyer_answer=Answer.NO),
    ),
    "pending, buyer said yes": pending_row(
        "pending, buyer said yes",
        BuyerCreated=unchanged("pending, buyer said yes", Reason.DUPLICATE_ANSWER),
        BuyerCreationFailed=unchanged("pending, buyer said yes", Reason.DUPLICATE_ANSWER),
        UnitReserved=Then(C, (BookingConfirmed,), unit_answer=Answer.YES, buyer_answer=Answer.YES),
        UnitReservationRejected=Then(R, (BookingRejected,), booking_reason="unit_not_available", unit_answer=Answer.NO, buyer_answer=Answer.YES),
    ),
    "pending, overdue": pending_row(
        "pending, overdue",
        CheckDeadline=Then(R, (BookingRejected,), booking_reason=Reason.TIMEOUT),
    ),
    "confirmed": confirmed_row("confirmed"),
    "confirmed with co-buyer": confirmed_row(
        "confirmed with co-buyer",
        **{
            "AddCoBuyer(new)": unchanged("confirmed with co-buyer", Reason.ALREADY_A_BUYER),
            "RemoveBuyer(holder)": Then(C, (CoBuyerRemoved,), buyers=(CO_BUYER,)),
            "RemoveBuyer(co-buyer)": Then(C, (CoBuyerRemoved,), buyers=(HOLDER,)),
        },
    ),
    "rejected": ended_row("rejected"),
    "cancelled": ended_row("cancelled"),
}

CELLS = [(state, message) for state in TABLE for message in TABLE[state]]


def test_every_state_meets_every_message_when_the_table_is_read() -> None:
    assert set(TABLE) == set(STATES)
    for state, row in TABLE.items():
        assert set(row) == set(MESSAGES), state


@pytest.mark.parametrize(("state", "message"), CELLS, ids=[f"{s} × {m}" for s, m in CELLS])
def test_decision_when_message_meets_state(state: str, message: str) -> None:
    before = STATES[state]
    then = TABLE[state][message]

    decision = decide(before, MESSAGES[message], NOW)

    after = decision.booking
    assert (after.status if after else None) == then.status
    assert tuple(type(e) for e in decision.events) == then.events
    assert decision.reason == then.reason
    if then.reason is not None:
        assert after is before, "a message that changes nothing leaves the booking as it was"
        return
    assert after is not None
    assert after.reason == then.booking_reason
    if then.buyers is not None:
        assert after.buyers == then.buyers
    if then.unit_answer is not None:
        assert after.unit_answer is then.unit_answer
    if then.buyer_answer is not None:
        assert after.buyer_answer is then.buyer_answer
    for event in decision.events:
        assert event.booking_id == BOOKING and event.unit_id == UNIT
        assert event.correlation_id == BOOKING
        assert event.key == str(UNIT)


def test_request_starts_pending_with_the_deadline_and_the_prospect_snapshot_when_new() -> None:
    decision = decide(None, MESSAGES["RequestBooking"], NOW)

    assert decision.booking == PENDING
    (requested,) = decision.events
    assert isinstance(requested, BookingRequested)
    assert requested.prospect == snapshot(HOLDER)
    assert requested.requested_by == "agent"
    assert requested.occurred_at == NOW


def test_rejection_names_the_reason_and_the_holder_when_units_says_no() -> None:
    (rejected,) = decide(PENDING, MESSAGES["UnitReservationRejected"], NOW).events
    assert isinstance(rejected, BookingRejected)
    assert (rejected.reason, rejected.prospect_id, rejected.unit_refused) == ("unit_not_available", HOLDER, True)


def test_rejection_says_the_unit_did_not_refuse_when_buyers_says_no_or_time_runs_out() -> None:
    # buyers must still undo (or remember) what a UnitReserved made: the unit may be held
    buyers_said_no = decide(STATES["pending, unit said yes"], MESSAGES["BuyerCreationFailed"], NOW).events
    timed_out = decide(replace(PENDING, deadline_at=NOW), CheckDeadline(), NOW).events
    assert [e.unit_refused for e in (*buyers_said_no, *timed_out)] == [False, False]


def test_deadline_rejects_with_timeout_when_exactly_due() -> None:
    decision = decide(replace(PENDING, deadline_at=NOW), CheckDeadline(), NOW)
    assert decision.booking.status is BookingStatus.REJECTED
    (rejected,) = decision.events
    assert rejected.reason == Reason.TIMEOUT


def test_confirmation_names_the_holder_when_both_said_yes() -> None:
    (confirmed,) = decide(STATES["pending, unit said yes"], MESSAGES["BuyerCreated"], NOW).events
    assert isinstance(confirmed, BookingConfirmed)
    assert confirmed.prospect_id == HOLDER


def test_buyer_copy_is_remembered_when_buyers_says_yes() -> None:
    assert decide(PENDING, MESSAGES["BuyerCreated"], NOW).booking.buyer_id == BUYER_COPY


def test_cancellation_tells_every_buyer_who_and_why_when_cancelled_by_api() -> None:
    (cancelled,) = decide(STATES["confirmed with co-buyer"], MESSAGES["CancelBooking"], NOW).events
    assert isinstance(cancelled, BookingCancelled)
    assert cancelled.prospect_ids == [HOLDER, CO_BUYER]
    assert (cancelled.reason, cancelled.cancelled_by) == ("changed their mind", "agent")


def test_release_on_the_unit_card_keeps_its_reason_and_agent_when_given() -> None:
    released = UnitReleased(unit_id=UNIT, booking_ids=[BOOKING], reason="buyer withdrew", released_by="maria")
    decision = decide(CONFIRMED, released, NOW)
    (cancelled,) = decision.events
    assert decision.booking.reason == "buyer withdrew"
    assert (cancelled.reason, cancelled.cancelled_by) == ("buyer withdrew", "maria")


def test_removing_the_last_buyer_cancels_for_that_buyer_when_alone() -> None:
    (cancelled,) = decide(CONFIRMED, RemoveBuyer(HOLDER, "agent"), NOW).events
    assert isinstance(cancelled, BookingCancelled)
    assert cancelled.prospect_ids == [HOLDER]
    assert cancelled.reason == Reason.LAST_BUYER_REMOVED


def test_co_buyer_event_carries_the_snapshot_when_added() -> None:
    (added,) = decide(CONFIRMED, MESSAGES["AddCoBuyer(new)"], NOW).events
    assert isinstance(added, CoBuyerAdded)
    assert added.prospect == snapshot(CO_BUYER, "Bo")


def test_removed_co_buyer_is_named_when_others_remain() -> None:
    (removed,) = decide(STATES["confirmed with co-buyer"], RemoveBuyer(CO_BUYER, "agent"), NOW).events
    assert isinstance(removed, CoBuyerRemoved)
    assert removed.prospect_id == CO_BUYER


@pytest.mark.parametrize(
    ("before", "after", "affected"),
    [
        (None, PENDING, set()),  # nobody becomes a buyer by asking
        (PENDING, replace(PENDING, status=BookingStatus.REJECTED), set()),
        (PENDING, CONFIRMED, {HOLDER}),
        (CONFIRMED, replace(CONFIRMED, status=BookingStatus.CANCELLED), {HOLDER}),
        (CONFIRMED, replace(CONFIRMED, buyers=(HOLDER, CO_BUYER)), {HOLDER, CO_BUYER}),
        (replace(CONFIRMED, buyers=(HOLDER, CO_BUYER)), replace(CONFIRMED, buyers=(CO_BUYER,)), {HOLDER, CO_BUYER}),
    ],
)
def test_every_buyer_before_or_after_is_affected_when_a_confirmed_booking_changes(before, after, affected) -> None:  # noqa: ANN001
    assert buyers_affected(before, after) == affected
