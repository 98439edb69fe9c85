"""Value types shared by several events."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    BOOKED = "booked"
    RESERVED = "reserved"
    SOLD = "sold"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ProspectSnapshot(BaseModel):
    """The contact data a buyer copy is made from, as it was when the booking was asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prospect_id: UUID
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
