"""Events the units service publishes (topic ``units.events``, keyed by unit_id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from . import topics
from .envelope import Event
from .types import ProspectSnapshot, UnitStatus


class UnitEvent(Event):
    TOPIC: ClassVar[str] = topics.UNITS

    unit_id: UUID


class UnitChanged(UnitEvent):
    """The unit's current data after any change (created, edited, status changed).

    Other services keep a local copy from it. ``revision`` grows by one with every change of the
    unit, so a copy never goes back to older data.
    """

    TYPE: ClassVar[str] = "UnitChanged"
    revision: int = Field(ge=1)
    project_id: UUID
    name: str
    status: UnitStatus
    previous_status: UnitStatus | None = None
    rooms: float | None = None
    living_area_sqm: float | None = None
    floor: int | None = None
    price_sek: int | None = None
    monthly_fee_sek: int | None = None
    booking_id: UUID | None = None
    changed_by: str | None = None


class UnitReserved(UnitEvent):
    """The unit went available → booked for this booking.

    It carries the booking request's prospect snapshot on to the buyers service, which makes
    the buyer copy only for a booking that holds its unit: a losing contender never appears on
    the buyer list, and costs the buyers service nothing.
    """

    TYPE: ClassVar[str] = "UnitReserved"
    booking_id: UUID
    prospect: ProspectSnapshot | None = None
    # when the snapshot was taken (the BookingRequested's occurred_at): a buyer copy's contact
    # data is as of then, so a later ProspectChanged still wins over it
    requested_at: datetime | None = None


class UnitReservationRejected(UnitEvent):
    TYPE: ClassVar[str] = "UnitReservationRejected"
    booking_id: UUID
    reason: str = Field(max_length=100)  # unit_not_available | unit_not_found


class UnitReleased(UnitEvent):
    """Avboka on the unit card: the unit is available again and these bookings are over."""

    TYPE: ClassVar[str] = "UnitReleased"
    booking_ids: list[UUID]
    reason: str | None = Field(default=None, max_length=1000)
    released_by: str | None = None
