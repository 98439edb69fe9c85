"""The customer card follows the units service's UnitChanged events from Kafka, keeping only
newer revisions — on PostgreSQL and on SQLite."""

from __future__ import annotations

import uuid
from uuid import UUID

from contracts.types import UnitStatus
from contracts.units import UnitChanged

from nyprod_kit.testing import wait_until

API = "/api/v1"


def _changed(unit_id: UUID, project_id: UUID, revision: int, status: UnitStatus, name: str = "D-0401") -> UnitChanged:
    return UnitChanged(unit_id=unit_id, project_id=project_id, revision=revision, name=name, status=status, rooms=2, floor=4)


async def test_card_follows_the_unit_when_units_publishes_changes(service, publish) -> None:  # noqa: ANN001
    unit_id, project_id = uuid.uuid4(), uuid.uuid4()
    prospect = await service.prospect()
    card_path = f"{API}/prospects/{prospect['id']}"

    await publish(_changed(unit_id, project_id, 1, UnitStatus.AVAILABLE))

    async def interested() -> bool:
        response = await service.client.put(f"{card_path}/interests", json={"unit_ids": [str(unit_id)]})
        return response.status_code == 200

    await wait_until(interested, message="the new unit in the copy")
    assert (await service.client.get(card_path)).json()["interests"] == [
        {"unit_id": str(unit_id), "unit_name": "D-0401", "unit_status": "available", "bookable": True}
    ]

    await publish(_changed(unit_id, project_id, 2, UnitStatus.BOOKED, name="D-0401 (corner)"))

    async def booked() -> dict | None:
        interest = (await service.client.get(card_path)).json()["interests"][0]
        return interest if interest["unit_status"] == "booked" else None

    interest = await wait_until(booked, message="the booked status on the card")
    assert (interest["unit_name"], interest["bookable"]) == ("D-0401 (corner)", False)

    stale = _changed(unit_id, project_id, 1, UnitStatus.AVAILABLE, name="D-0401 (old)")
    await publish(stale)
    await wait_until(lambda: service.handled(stale), message="the stale change handled")

    interest = (await service.client.get(card_path)).json()["interests"][0]
    assert (interest["unit_name"], interest["unit_status"], interest["bookable"]) == ("D-0401 (corner)", "booked", False)
