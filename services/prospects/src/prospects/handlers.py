"""One async function per command or event. Each owns its transaction: the state change, the
outbox rows and (for events) the inbox row commit together or not at all.

Every change of a booking goes through ``_apply``: load the booking, let ``booking_saga.decide``
choose, store the result with a conditional update, keep the buyers' prospect status in step,
record the step and publish the events — in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from contracts.booking import ProspectChanged, ProspectErased
from contracts.buyers import BuyerCreated, BuyerCreationFailed
from contracts.types import BookingStatus, ProspectSnapshot
from contracts.units import UnitChanged, UnitReleased, UnitReservationRejected, UnitReserved

from nyprod_kit.errors import Conflict, NotFound

from . import booking_saga
from .booking_saga import (
    AddCoBuyer,
    CancelBooking,
    CheckDeadline,
    Decision,
    Message,
    ParticipantAnswer,
    Reason,
    RemoveBuyer,
    RequestBooking,
)
from .db.repo import BookingChangedMeanwhile
from .db.uow import ProspectsUnitOfWork
from .domain import ProspectStatus, fold, name_search_text, normalise_phone
from .waiting import BookingWaiters, Watch

log = logging.getLogger(__name__)

CONSUMER = "prospects"
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")
# a conditional save that loses a race is retried from a fresh read this many times
_SAVE_ATTEMPTS = 5
OVERDUE_BATCH = 100

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


async def _retrying(run: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, _SAVE_ATTEMPTS + 1):
        try:
            return await run()
        except BookingChangedMeanwhile:
            if attempt == _SAVE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# ---- prospects ----------------------------------------------------------------------------


def _contact_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The contact data plus the search columns derived from it."""
    email, phone = data.get("email"), data.get("phone")
    return {
        **{k: data.get(k) for k in CONTACT_FIELDS},
        "name_search": name_search_text(data["first_name"], data["last_name"]),
        "email_search": fold(email) if email else None,
        "phone_search": normalise_phone(phone) if phone else None,
    }


def _new_prospect(data: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    return {
        "id": uuid4(),
        **_contact_columns(data),
        "note": data.get("note"),
        "status": ProspectStatus.PROSPECT.value,
        "created_at": now,
        "updated_at": now,
    }


def _snapshot(row: dict[str, Any]) -> ProspectSnapshot:
    return ProspectSnapshot(
        prospect_id=row["id"], first_name=row["first_name"], last_name=row["last_name"], email=row["email"], phone=row["phone"]
    )


def _unique(ids: list[UUID]) -> list[UUID]:
    return list(dict.fromkeys(ids))


async def _require_known_units(uow: ProspectsUnitOfWork, unit_ids: list[UUID]) -> None:
    unknown = await uow.units.unknown(unit_ids)
    if unknown:
        raise NotFound("unit", unknown[0])


async def _require_prospect(uow: ProspectsUnitOfWork, prospect_id: UUID) -> dict[str, Any]:
    # locked on PostgreSQL so that an erasure and a booking for the same prospect cannot interleave
    row = await uow.prospects.get(prospect_id, for_update=True)
    if row is None:
        raise NotFound("prospect", prospect_id)
    return row


async def create_prospect(uow: ProspectsUnitOfWork, data: dict[str, Any]) -> UUID:
    async with uow:
        unit_ids = _unique(data.get("interests") or [])
        await _require_known_units(uow, unit_ids)
        row = _new_prospect(data)
        await uow.prospects.add(row)
        await uow.prospects.replace_interests(row["id"], unit_ids)
        await uow.commit()
        return row["id"]


async def edit_prospect(uow: ProspectsUnitOfWork, prospect_id: UUID, changes: dict[str, Any]) -> None:
    async with uow:
        current = await _require_prospect(uow, prospect_id)
        merged = {**current, **changes}
        columns: dict[str, Any] = {"updated_at": _now()}
        if "note" in changes:
            columns["note"] = changes["note"]
        contact_changed = any(merged[k] != current[k] for k in CONTACT_FIELDS)
        if contact_changed:
            columns.update(_contact_columns(merged))
        await uow.prospects.edit(prospect_id, columns)
        if contact_changed:
            # buyer copies follow the contact data
            uow.publish(ProspectChanged(prospect_id=prospect_id, **{k: merged[k] for k in CONTACT_FIELDS}))
        await uow.commit()


async def replace_interests(uow: ProspectsUnitOfWork, prospect_id: UUID, unit_ids: list[UUID]) -> None:
    async with uow:
        await _require_prospect(uow, prospect_id)
        unit_ids = _unique(unit_ids)
        await _require_known_units(uow, unit_ids)
        await uow.prospects.replace_interests(prospect_id, unit_ids)
        await uow.prospects.edit(prospect_id, {"updated_at": _now()})
        await uow.commit()


async def erase_prospect(uow: ProspectsUnitOfWork, prospect_id: UUID) -> None:
    """GDPR erasure: the person goes, their bookings stay with ids only."""
    async with uow:
        await _require_prospect(uow, prospect_id)
        if await uow.bookings.prospect_buys(prospect_id, BookingStatus.CONFIRMED):
            raise Conflict("the prospect buys a unit; cancel the booking first", "prospect_has_confirmed_booking")
        if await uow.bookings.prospect_buys(prospect_id, BookingStatus.PENDING):
            # it might still be confirmed, which would make a buyer of someone erased
            raise Conflict("the prospect has a booking in progress; try again when it has settled", "prospect_has_pending_booking")
        await uow.prospects.erase(prospect_id)
        uow.publish(ProspectErased(prospect_id=prospect_id))
        await uow.commit()


async def customer_card(uow: ProspectsUnitOfWork, prospect_id: UUID) -> dict[str, Any]:
    """The prospect with the units they want (and whether each can be booked) and their bookings,
    all from this service's own tables."""
    async with uow:
        row = await uow.prospects.get(prospect_id)
        if row is None:
            raise NotFound("prospect", prospect_id)
        return {**row, "interests": await uow.prospects.interests_of(prospect_id), "bookings": await uow.bookings.of_prospect(prospect_id)}


async def booking(uow: ProspectsUnitOfWork, booking_id: UUID, waiters: BookingWaiters, wait: float = 0.0) -> dict[str, Any]:
    """The booking; with ``wait`` > 0, once it is no longer pending or after ``wait`` seconds,
    whichever comes first. Woken by the change itself, not by polling."""
    until = asyncio.get_running_loop().time() + wait
    with waiters.watch(booking_id) as watch:
        return await _once_final(uow, booking_id, watch, until)


async def request_booking_and_wait(
    uow: ProspectsUnitOfWork,
    prospect_id: UUID,
    unit_id: UUID,
    by: str | None,
    deadline: timedelta,
    idempotency: Idempotency | None,
    waiters: BookingWaiters,
    wait: float,
) -> tuple[Accepted, dict[str, Any]]:
    """BOKA and the wait for its outcome in one call. The waiter is in place before the booking
    is committed, so the just-made booking (known to be pending) is not read straight away."""
    loop = asyncio.get_running_loop()
    until = loop.time() + wait
    booking_id = uuid4()
    with waiters.watch(booking_id) as watch:
        accepted = await request_booking(uow, prospect_id, unit_id, by, deadline, idempotency, booking_id=booking_id)
        if accepted.created:
            return accepted, await _once_final(uow, booking_id, watch, until, known_pending=True)
    return accepted, await booking(uow, accepted.booking_id, waiters, max(0.0, until - loop.time()))


async def _once_final(uow: ProspectsUnitOfWork, booking_id: UUID, watch: Watch, until: float, *, known_pending: bool = False) -> dict[str, Any]:
    """The booking once it is final, or as it is at ``until``. Settled by this process, it comes
    with the wake-up; otherwise it is read."""
    loop = asyncio.get_running_loop()
    woken = False
    if known_pending:
        woken = await watch.woken_within(until - loop.time())
    while True:
        if woken and watch.settled is not None and watch.settled["status"] != BookingStatus.PENDING.value:
            return dict(watch.settled)
        # cleared before reading: a change committed after this read still wakes the wait below
        watch.clear()
        async with uow:
            row = await uow.bookings.get(booking_id)
        if row is None:
            raise NotFound("booking", booking_id)
        remaining = until - loop.time()
        if row["status"] != BookingStatus.PENDING.value or remaining <= 0:
            return row
        woken = await watch.woken_within(remaining)


# ---- booking commands (HTTP) ----------------------------------------------------------------


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str | None, request: str, body: dict[str, Any]) -> Idempotency | None:
        if key is None:
            return None
        canonical = json.dumps({"request": request, "body": body}, sort_keys=True, default=str)
        return cls(key, hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True)
class Accepted:
    booking_id: UUID
    status: BookingStatus
    prospect_id: UUID
    created: bool  # False when an earlier request with the same Idempotency-Key made it


async def request_booking(
    uow: ProspectsUnitOfWork,
    prospect_id: UUID,
    unit_id: UUID,
    by: str | None,
    deadline: timedelta,
    idempotency: Idempotency | None = None,
    *,
    booking_id: UUID | None = None,
) -> Accepted:
    """BOKA: the booking starts pending; whether the unit can be had is the saga's answer."""
    booking_id = booking_id or uuid4()
    async with uow:
        earlier = await _claim(uow, idempotency, booking_id)
        if earlier is not None:
            return earlier
        prospect = await _require_prospect(uow, prospect_id)
        await _start(uow, booking_id, unit_id, prospect, by, deadline)
        await uow.commit()
    return Accepted(booking_id, BookingStatus.PENDING, prospect_id, created=True)


async def add_buyer(
    uow: ProspectsUnitOfWork,
    unit_id: UUID,
    prospect_id: UUID | None,
    contact: dict[str, Any] | None,
    by: str | None,
    deadline: timedelta,
    idempotency: Idempotency | None = None,
) -> Accepted:
    """A buyer added directly on the buyer page or unit card: the same saga as BOKA, for an
    existing prospect or for one made from the given contact data in the same transaction."""
    booking_id = uuid4()
    async with uow:
        earlier = await _claim(uow, idempotency, booking_id)
        if earlier is not None:
            return earlier
        if prospect_id is not None:
            prospect = await _require_prospect(uow, prospect_id)
        else:
            assert contact is not None
            prospect = _new_prospect(contact)
            await uow.prospects.add(prospect)
        await _start(uow, booking_id, unit_id, prospect, by, deadline)
        await uow.commit()
    return Accepted(booking_id, BookingStatus.PENDING, prospect["id"], created=True)


async def _claim(uow: ProspectsUnitOfWork, idempotency: Idempotency | None, booking_id: UUID) -> Accepted | None:
    """None when this request may go ahead; the earlier request's booking when it is a retry."""
    if idempotency is None or await uow.idempotency.claim(idempotency.key, booking_id, idempotency.fingerprint):
        return None
    held = await uow.idempotency.get(idempotency.key)
    assert held is not None
    if held["fingerprint"] != idempotency.fingerprint:
        raise Conflict("this Idempotency-Key was already used for another request", "idempotency_key_reused")
    booking = await uow.bookings.get(held["booking_id"])
    assert booking is not None
    return Accepted(booking["id"], BookingStatus(booking["status"]), booking["prospect_id"], created=False)


async def _start(
    uow: ProspectsUnitOfWork, booking_id: UUID, unit_id: UUID, prospect: dict[str, Any], by: str | None, deadline: timedelta
) -> None:
    now = _now()
    decision = booking_saga.decide(None, RequestBooking(booking_id, unit_id, _snapshot(prospect), by, deadline), now)
    assert decision.booking is not None
    await uow.bookings.add(decision.booking, by, now)
    uow.bookings.record_step(booking_id, "RequestBooking", decision.booking.status, None, by, prospect["id"], now)
    uow.publish(*decision.events)


_REFUSED = {
    Reason.BOOKING_ALREADY_FINAL: "the booking has already ended",
    Reason.BOOKING_NOT_CONFIRMED: "the booking is not confirmed",
    Reason.ALREADY_A_BUYER: "the prospect already buys this booking's unit",
}


async def _command(uow: ProspectsUnitOfWork, booking_id: UUID, make: Callable[[], Awaitable[Message]]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with uow:
            message = await make()
            decision = await _apply(uow, booking_id, message, _now())
            if decision is None:
                raise NotFound("booking", booking_id)
            if decision.reason == Reason.NOT_A_BUYER:
                assert isinstance(message, RemoveBuyer)
                missing = NotFound("buyer", message.prospect_id)
                missing.detail = f"prospect {message.prospect_id} is not a buyer of booking {booking_id}"
                raise missing
            if decision.reason is not None:
                raise Conflict(_REFUSED.get(decision.reason, decision.reason), decision.reason)
            booking = await uow.bookings.get(booking_id)
            await uow.commit()
            assert booking is not None
            return booking

    return await _retrying(run)


async def cancel_booking(uow: ProspectsUnitOfWork, booking_id: UUID, reason: str | None, by: str | None) -> dict[str, Any]:
    async def make() -> Message:
        return CancelBooking(reason, by)

    return await _command(uow, booking_id, make)


async def add_co_buyer(uow: ProspectsUnitOfWork, booking_id: UUID, prospect_id: UUID, by: str | None) -> dict[str, Any]:
    async def make() -> Message:
        return AddCoBuyer(_snapshot(await _require_prospect(uow, prospect_id)), by)

    return await _command(uow, booking_id, make)


async def remove_buyer(uow: ProspectsUnitOfWork, booking_id: UUID, prospect_id: UUID, by: str | None) -> dict[str, Any]:
    async def make() -> Message:
        return RemoveBuyer(prospect_id, by)

    return await _command(uow, booking_id, make)


# ---- the saga's engine ----------------------------------------------------------------------


def _acted_by(message: Message) -> tuple[str | None, UUID | None]:
    """Who made this step, and which prospect it is about (for the booking's history)."""
    match message:
        case CancelBooking():
            return message.by, None
        case AddCoBuyer():
            return message.by, message.prospect.prospect_id
        case RemoveBuyer():
            return message.by, message.prospect_id
        case UnitReleased():
            return message.released_by, None
    return None, None


async def _apply(uow: ProspectsUnitOfWork, booking_id: UUID, message: Message, now: datetime) -> Decision | None:
    """None for an unknown booking (answers about other deployments' bookings share the topics)."""
    loaded = await uow.bookings.load(booking_id)
    if loaded is None:
        return None
    before = loaded.booking
    decision = booking_saga.decide(before, message, now)
    if decision.reason is not None:
        return decision
    after = decision.booking
    assert after is not None
    saved = await uow.bookings.save(loaded, after, now)
    uow.refresh_buyer_status(booking_saga.buyers_affected(before, after))
    by, about = _acted_by(message)
    settled = after.status != before.status
    uow.bookings.record_step(booking_id, type(message).__name__, after.status, after.reason if settled else None, by, about, now)
    uow.publish(*decision.events)
    if settled:
        uow.booking_settled(saved)
    return decision


async def reject_overdue_bookings(uow_factory: Callable[[], ProspectsUnitOfWork], batch: int = OVERDUE_BATCH) -> int:
    """The deadline: every booking still pending after it is rejected with reason ``timeout``.
    Safe with several replicas sweeping at once and against a late answer: the conditional save
    lets exactly one of them end the booking. Returns how many this call rejected."""
    async with uow_factory() as uow:
        overdue = await uow.bookings.overdue(_now(), batch)
    rejected = 0
    for booking_id in overdue:
        rejected += await _reject_if_overdue(uow_factory(), booking_id)
    return rejected


async def _reject_if_overdue(uow: ProspectsUnitOfWork, booking_id: UUID) -> bool:
    async def run() -> bool:
        async with uow:
            decision = await _apply(uow, booking_id, CheckDeadline(), _now())
            await uow.commit()
            return decision is not None and decision.reason is None

    return await _retrying(run)


# ---- events (Kafka) ------------------------------------------------------------------------


async def _on_booking_event(event: ParticipantAnswer | UnitReleased, uow: ProspectsUnitOfWork, booking_ids: list[UUID]) -> None:
    async def run() -> None:
        async with uow:
            if not await uow.first_time(CONSUMER, event):
                return
            for booking_id in booking_ids:
                decision = await _apply(uow, booking_id, event, _now())
                if decision is not None and decision.reason is not None:
                    log.info("%s for booking %s ignored: %s", event.TYPE, booking_id, decision.reason)
            await uow.commit()

    await _retrying(run)


async def on_unit_reserved(event: UnitReserved, uow: ProspectsUnitOfWork) -> None:
    await _on_booking_event(event, uow, [event.booking_id])


async def on_unit_reservation_rejected(event: UnitReservationRejected, uow: ProspectsUnitOfWork) -> None:
    await _on_booking_event(event, uow, [event.booking_id])


async def on_buyer_created(event: BuyerCreated, uow: ProspectsUnitOfWork) -> None:
    await _on_booking_event(event, uow, [event.booking_id])


async def on_buyer_creation_failed(event: BuyerCreationFailed, uow: ProspectsUnitOfWork) -> None:
    await _on_booking_event(event, uow, [event.booking_id])


async def on_unit_released(event: UnitReleased, uow: ProspectsUnitOfWork) -> None:
    """Avboka on the unit card: the listed bookings that still hold the unit are cancelled."""
    await _on_booking_event(event, uow, _unique(event.booking_ids))


async def on_unit_changed(event: UnitChanged, uow: ProspectsUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await uow.units.upsert_if_newer(
            {
                "id": event.unit_id,
                "project_id": event.project_id,
                "name": event.name,
                "status": event.status.value,
                "revision": event.revision,
                "rooms": event.rooms,
                "living_area_sqm": event.living_area_sqm,
                "floor": event.floor,
                "price_sek": event.price_sek,
                "monthly_fee_sek": event.monthly_fee_sek,
                "updated_at": event.occurred_at,
            }
        )
        await uow.commit()
