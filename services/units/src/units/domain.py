"""Pure rules about a unit's status. No I/O: plain data in, a decision out."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts.types import UnitStatus

TAKEN = frozenset({UnitStatus.BOOKED, UnitStatus.RESERVED, UnitStatus.SOLD})


@dataclass(frozen=True)
class UnitState:
    unit_id: UUID
    status: UnitStatus
    booking_id: UUID | None


def decide_reservation(unit: UnitState | None) -> str | None:
    """None when the unit may be booked, else the rejection reason."""
    if unit is None:
        return "unit_not_found"
    if unit.status is not UnitStatus.AVAILABLE:
        return "unit_not_available"
    return None


def holds(unit: UnitState | None, booking_id: UUID) -> bool:
    """Whether this booking is the one that holds the unit (so ending it frees the unit)."""
    return unit is not None and unit.status in TAKEN and unit.booking_id == booking_id


def decide_status_change(current: UnitStatus, requested: UnitStatus) -> str | None:
    """An agent's status change by PATCH: None when allowed, else the 409 reason code.

    booked, reserved and sold move freely among themselves; a unit becomes booked only through
    a booking and available only through a cancellation.
    """
    if requested == current:
        return None
    if current is UnitStatus.AVAILABLE:
        return "booking_required"
    if requested is UnitStatus.AVAILABLE:
        return "cancel_booking_required"
    return None
