import json
import uuid

import pytest
from contracts import registry
from contracts.booking import BookingRequested
from contracts.examples import EXAMPLES_DIR, load
from contracts.types import ProspectSnapshot
from contracts.units import UnitReserved


@pytest.mark.parametrize(("event_type", "version"), sorted(registry.REGISTRY))
def test_every_event_has_an_example_that_decodes_and_round_trips(event_type, version):
    raw = load(event_type, version)
    event = registry.decode(raw)
    assert type(event) is registry.REGISTRY[(event_type, version)]
    assert registry.decode(event.to_bytes()) == event
    assert json.loads(raw)["key"] == event.key


def test_no_example_is_left_without_an_event_class():
    names = {p.name for p in EXAMPLES_DIR.glob("*.json")}
    assert names == {f"{t}.v{v}.json" for t, v in registry.REGISTRY}


def test_booking_events_are_keyed_by_unit_id():
    unit = uuid.uuid4()
    req = BookingRequested(booking_id=uuid.uuid4(), unit_id=unit, prospect=ProspectSnapshot(prospect_id=uuid.uuid4(), first_name="A", last_name="B"))
    assert req.key == str(unit) == UnitReserved(unit_id=unit, booking_id=uuid.uuid4()).key


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "bad envelope"),
        (json.dumps({"event_id": "x", "type": "UnitReserved", "version": 1, "occurred_at": "2026-01-01T00:00:00Z", "payload": {}}).encode(), "bad envelope"),
        (json.dumps({"event_id": str(uuid.uuid4()), "type": "Nope", "version": 1, "occurred_at": "2026-01-01T00:00:00Z", "payload": {}}).encode(), "unknown event type"),
        (json.dumps({"event_id": str(uuid.uuid4()), "type": "UnitReserved", "version": 9, "occurred_at": "2026-01-01T00:00:00Z", "payload": {}}).encode(), "unknown event type"),
        (json.dumps({"event_id": str(uuid.uuid4()), "type": "UnitReserved", "version": 1, "occurred_at": "2026-01-01T00:00:00Z", "payload": {"unit_id": "x"}}).encode(), "bad UnitReserved v1 payload"),
    ],
)
def test_invalid_bytes_are_refused_with_a_reason_when_decoded(raw, message):
    with pytest.raises(registry.UndecodableEvent, match=message):
        registry.decode(raw)
