"""One async function per command or event. Each owns its transaction: the state change, the
history row, the outbox rows and (for events) the inbox row commit together or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from contracts.booking import BookingCancelled, BookingRejected, BookingRequested
from contracts.buyers import UnitBuyersChanged
from contracts.types import UnitStatus
from contracts.units import UnitChanged, UnitReleased, UnitReservationRejected, UnitReserved

from nyprod_kit.errors import Conflict, NotFound

from . import domain
from .db.uow import UnitsUnitOfWork

UowFactory = Callable[[], UnitsUnitOfWork]
CONSUMER = "units"


def unit_changed(row: dict[str, Any], previous_status: str | None, by: str | None) -> UnitChanged:
    return UnitChanged(
        unit_id=row["id"],
        revision=row["revision"],
        project_id=row["project_id"],
        name=row["name"],
        status=UnitStatus(row["status"]),
        previous_status=UnitStatus(previous_status) if previous_status else None,
        rooms=row["rooms"],
        living_area_sqm=row["living_area_sqm"],
        floor=row["floor"],
        price_sek=row["price_sek"],
        monthly_fee_sek=row["monthly_fee_sek"],
        booking_id=row["booking_id"],
        changed_by=by,
        correlation_id=row["booking_id"],
    )


# ---- commands (HTTP) ---------------------------------------------------------------------


async def create_project(uow: UnitsUnitOfWork, name: str) -> dict[str, Any]:
    async with uow:
        row = await uow.projects.add(uuid4(), name)
        await uow.commit()
        return row


async def create_unit(uow: UnitsUnitOfWork, data: dict[str, Any], by: str | None) -> dict[str, Any]:
    async with uow:
        if await uow.projects.get(data["project_id"]) is None:
            raise NotFound("project", data["project_id"])
        if await uow.units.name_taken(data["project_id"], data["name"]):
            raise Conflict(f"project already has a unit named {data['name']!r}", "unit_name_taken")
        row = await uow.units.add({"id": uuid4(), **data})
        await uow.history.record(row["id"], None, row["status"], booking_id=None, by=by, reason="created")
        uow.publish(unit_changed(row, None, by))
        await uow.commit()
        return row


async def edit_unit(uow: UnitsUnitOfWork, unit_id: UUID, changes: dict[str, Any], by: str | None) -> dict[str, Any]:
    async with uow:
        current = await uow.units.get(unit_id, for_update=True)
        if current is None:
            raise NotFound("unit", unit_id)
        new_status = changes.pop("status", None)
        if "name" in changes and await uow.units.name_taken(current["project_id"], changes["name"], except_id=unit_id):
            raise Conflict(f"project already has a unit named {changes['name']!r}", "unit_name_taken")
        previous = current["status"]
        if new_status is not None and new_status != previous:
            reason = domain.decide_status_change(UnitStatus(previous), UnitStatus(new_status))
            if reason:
                raise Conflict(f"a unit cannot go from {previous} to {new_status} by editing it", reason)
            if not await uow.units.change_status_if(unit_id, previous, new_status):
                raise Conflict("the unit's status changed meanwhile; reload and try again", "status_changed")
            await uow.history.record(unit_id, previous, new_status, booking_id=current["booking_id"], by=by)
        if changes:
            await uow.units.edit(unit_id, changes)
        if changes or (new_status is not None and new_status != previous):
            row = await uow.units.get(unit_id)
            assert row is not None
            uow.publish(unit_changed(row, previous if row["status"] != previous else None, by))
        else:
            row = current
        await uow.commit()
        return row


async def cancel_booking(uow: UnitsUnitOfWork, unit_id: UUID, reason: str | None, by: str | None) -> UUID | None:
    """Avboka on the unit card: the unit is available again and the bookings holding it end."""
    async with uow:
        current = await uow.units.get(unit_id, for_update=True)
        if current is None:
            raise NotFound("unit", unit_id)
        if current["status"] == UnitStatus.AVAILABLE.value:
            raise Conflict("the unit is not booked", "unit_not_booked")
        booking_id = current["booking_id"]
        previous = await uow.units.release_if_held_by(unit_id, booking_id)
        if previous is None:
            raise Conflict("the unit's status changed meanwhile; reload and try again", "status_changed")
        await uow.history.record(unit_id, previous, UnitStatus.AVAILABLE.value, booking_id=booking_id, by=by, reason=reason or "cancelled")
        row = await uow.units.get(unit_id)
        assert row is not None
        uow.publish(
            UnitReleased(unit_id=unit_id, booking_ids=[booking_id] if booking_id else [], reason=reason, released_by=by, correlation_id=booking_id),
            unit_changed(row, previous, by),
        )
        await uow.commit()
        return booking_id


# ---- events (Kafka) ------------------------------------------------------------------------


async def on_booking_requested(event: BookingRequested, uow: UnitsUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        reason = domain.decide_reservation(await uow.units.state(event.unit_id))
        if reason is None and not await uow.units.book_if_available(event.unit_id, event.booking_id):
            reason = "unit_not_available"  # lost the race to a concurrent booking
        if reason:
            uow.publish(
                UnitReservationRejected(unit_id=event.unit_id, booking_id=event.booking_id, reason=reason, correlation_id=event.booking_id)
            )
        else:
            await uow.history.record(
                event.unit_id, UnitStatus.AVAILABLE.value, UnitStatus.BOOKED.value, booking_id=event.booking_id, by=event.requested_by, reason="booked"
            )
            row = await uow.units.get(event.unit_id)
            assert row is not None
            uow.publish(
                UnitReserved(
                    unit_id=event.unit_id,
                    booking_id=event.booking_id,
                    prospect=event.prospect,
                    requested_at=event.occurred_at,
                    correlation_id=event.booking_id,
                ),
                unit_changed(row, UnitStatus.AVAILABLE.value, event.requested_by),
            )
        await uow.commit()


async def _release(uow: UnitsUnitOfWork, unit_id: UUID, booking_id: UUID, why: str, by: str | None) -> None:
    previous = await uow.units.release_if_held_by(unit_id, booking_id)
    if previous is None:
        return  # this booking does not hold the unit: nothing to undo
    await uow.history.record(unit_id, previous, UnitStatus.AVAILABLE.value, booking_id=booking_id, by=by, reason=why)
    row = await uow.units.get(unit_id)
    assert row is not None
    uow.publish(unit_changed(row, previous, by))


def refused_here(event: BookingRejected) -> bool:
    """This service answered the booking no, so the booking never held the unit: its rejection
    has nothing to release (the consumer skips it)."""
    return event.unit_refused


async def on_booking_rejected(event: BookingRejected, uow: UnitsUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await _release(uow, event.unit_id, event.booking_id, f"booking rejected: {event.reason}", None)
        await uow.commit()


async def on_booking_cancelled(event: BookingCancelled, uow: UnitsUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await _release(uow, event.unit_id, event.booking_id, event.reason or "booking cancelled", event.cancelled_by)
        await uow.commit()


async def on_unit_buyers_changed(event: UnitBuyersChanged, uow: UnitsUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await uow.units.replace_buyers(
            event.unit_id,
            [
                {"buyer_id": b.buyer_id, "prospect_id": b.prospect_id, "first_name": b.first_name, "last_name": b.last_name, "booking_id": b.booking_id}
                for b in event.buyers
            ],
        )
        await uow.commit()
