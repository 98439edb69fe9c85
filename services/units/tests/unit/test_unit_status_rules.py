import uuid

import pytest
from contracts.types import UnitStatus as S

from units.domain import UnitState, decide_reservation, decide_status_change, holds

B = uuid.uuid4()


@pytest.mark.parametrize(
    ("unit", "reason"),
    [
        (None, "unit_not_found"),
        (UnitState(uuid.uuid4(), S.AVAILABLE, None), None),
        (UnitState(uuid.uuid4(), S.BOOKED, B), "unit_not_available"),
        (UnitState(uuid.uuid4(), S.RESERVED, B), "unit_not_available"),
        (UnitState(uuid.uuid4(), S.SOLD, B), "unit_not_available"),
    ],
)
def test_reservation_is_decided_by_status_when_a_booking_asks(unit, reason):
    assert decide_reservation(unit) == reason


@pytest.mark.parametrize(
    ("current", "requested", "reason"),
    [
        (S.BOOKED, S.RESERVED, None),
        (S.RESERVED, S.SOLD, None),
        (S.BOOKED, S.SOLD, None),
        (S.SOLD, S.BOOKED, None),
        (S.RESERVED, S.BOOKED, None),
        (S.AVAILABLE, S.AVAILABLE, None),
        (S.AVAILABLE, S.BOOKED, "booking_required"),
        (S.AVAILABLE, S.SOLD, "booking_required"),
        (S.AVAILABLE, S.RESERVED, "booking_required"),
        (S.BOOKED, S.AVAILABLE, "cancel_booking_required"),
        (S.SOLD, S.AVAILABLE, "cancel_booking_required"),
    ],
)
def test_status_change_by_edit_is_allowed_only_among_taken_statuses(current, requested, reason):
    assert decide_status_change(current, requested) == reason


def test_only_the_holding_booking_frees_the_unit_when_it_ends():
    other = uuid.uuid4()
    assert holds(UnitState(uuid.uuid4(), S.BOOKED, B), B)
    assert holds(UnitState(uuid.uuid4(), S.SOLD, B), B)
    assert not holds(UnitState(uuid.uuid4(), S.BOOKED, other), B)
    assert not holds(UnitState(uuid.uuid4(), S.AVAILABLE, None), B)
    assert not holds(None, B)
