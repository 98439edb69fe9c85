"""Canonical example of every event, stored as ``contracts/examples/<Type>.v<N>.json``.

Producers' tests check that what they publish decodes to the same class as the example;
consumers' tests feed the examples. ``python -m contracts.examples`` rewrites the files."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from .registry import REGISTRY

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def load(event_type: str, version: int = 1) -> bytes:
    return (EXAMPLES_DIR / f"{event_type}.v{version}.json").read_bytes()


def _fixed(n: int) -> str:
    return str(UUID(int=n))


def _examples() -> dict[str, dict]:
    booking, unit, prospect, buyer, project = _fixed(1), _fixed(2), _fixed(3), _fixed(4), _fixed(5)
    snapshot = {"prospect_id": prospect, "first_name": "Åsa", "last_name": "Öberg", "email": "asa@example.se", "phone": "070-123 45 67"}
    return {
        "BookingRequested": {"booking_id": booking, "unit_id": unit, "prospect": snapshot, "requested_by": "agent"},
        "BookingConfirmed": {"booking_id": booking, "unit_id": unit, "prospect_id": prospect},
        "BookingRejected": {"booking_id": booking, "unit_id": unit, "prospect_id": prospect, "reason": "unit_not_available", "unit_refused": True},
        "BookingCancelled": {"booking_id": booking, "unit_id": unit, "prospect_ids": [prospect], "reason": "kunden ångrade sig", "cancelled_by": "agent"},
        "CoBuyerAdded": {"booking_id": booking, "unit_id": unit, "prospect": {**snapshot, "first_name": "Björn"}},
        "CoBuyerRemoved": {"booking_id": booking, "unit_id": unit, "prospect_id": prospect},
        "ProspectChanged": {"prospect_id": prospect, "first_name": "Åsa", "last_name": "Öberg", "email": None, "phone": "+46701234567"},
        "ProspectErased": {"prospect_id": prospect},
        "UnitChanged": {
            "unit_id": unit, "revision": 2, "project_id": project, "name": "A-1101", "status": "booked", "previous_status": "available",
            "rooms": 3.0, "living_area_sqm": 74.5, "floor": 1, "price_sek": 3250000, "monthly_fee_sek": 4200, "booking_id": booking, "changed_by": "agent",
        },
        "UnitReserved": {"unit_id": unit, "booking_id": booking, "prospect": snapshot, "requested_at": "2026-03-01T08:59:59+01:00"},
        "UnitReservationRejected": {"unit_id": unit, "booking_id": booking, "reason": "unit_not_available"},
        "UnitReleased": {"unit_id": unit, "booking_ids": [booking], "reason": "avbokad", "released_by": "agent"},
        "BuyerCreated": {"unit_id": unit, "booking_id": booking, "buyer_id": buyer, "prospect_id": prospect},
        "BuyerCreationFailed": {"unit_id": unit, "booking_id": booking, "reason": "prospect_erased"},
        "UnitBuyersChanged": {
            "unit_id": unit,
            "buyers": [{"buyer_id": buyer, "prospect_id": prospect, "first_name": "Åsa", "last_name": "Öberg", "booking_id": booking}],
        },
    }


def write() -> None:
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for (event_type, version), cls in REGISTRY.items():
        payload = _examples()[event_type]
        event = cls.model_validate({**payload, "event_id": _fixed(100 + len(event_type)), "occurred_at": "2026-03-01T09:00:00+01:00", "correlation_id": None})
        (EXAMPLES_DIR / f"{event_type}.v{version}.json").write_text(json.dumps(event.to_wire(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write()
