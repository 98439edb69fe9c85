"""The core of the booking saga on SQLite, the local run's database."""

from __future__ import annotations

import pytest
from contracts.booking import BookingCancelled, BookingRejected
from contracts.buyers import BuyerCreated, UnitBuyersChanged

from nyprod_kit.testing import wait_until


@pytest.fixture(scope="module")
async def service(start_buyers_service, tmp_path_factory):
    async with start_buyers_service("sqlite", tmp_path_factory.mktemp("buyers")) as running:
        yield running


async def test_buyer_keeps_row_without_unit_when_confirmed_booking_is_cancelled(service, make):
    unit_id = make.prospect().prospect_id  # any fresh id
    await service.publish(make.unit_changed(unit_id, "A-1101", 1))
    reserved = make.reserved(make.prospect("Åsa", email="asa@example.se", phone="070-123 45 67"), unit_id)
    await service.publish(reserved)

    created = (await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id))[0]
    assert created.prospect_id == reserved.prospect.prospect_id
    assert created.correlation_id == reserved.booking_id

    await service.publish(make.confirmed(reserved))
    changed = (await service.events.wait_for(UnitBuyersChanged, unit_id=unit_id))[0]
    assert [(b.buyer_id, b.first_name, b.booking_id) for b in changed.buyers] == [(created.buyer_id, "Åsa", reserved.booking_id)]
    await service.settled()  # the unit's name comes on another topic, handled by another worker
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert buyer["units"] == [{"unit_id": str(unit_id), "unit_name": "A-1101", "booking_id": str(reserved.booking_id)}]

    await service.publish(
        BookingCancelled(booking_id=reserved.booking_id, unit_id=unit_id, prospect_ids=[reserved.prospect.prospect_id])
    )
    emptied = await service.events.wait_for(UnitBuyersChanged, unit_id=unit_id, count=2)
    assert emptied[1].buyers == []
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert buyer["units"] == []
    assert buyer["first_name"] == "Åsa"


async def test_buyer_is_gone_when_its_only_booking_is_rejected(service, make):
    reserved = make.reserved(make.prospect())
    await service.publish(reserved)
    created = (await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id))[0]

    await service.publish(
        BookingRejected(
            booking_id=reserved.booking_id,
            unit_id=reserved.unit_id,
            prospect_id=reserved.prospect.prospect_id,
            reason="timeout",
        )
    )

    async def gone() -> bool:
        return (await service.client.get(f"/api/v1/buyers/{created.buyer_id}")).status_code == 404

    await wait_until(gone, message="the rejected booking's buyer to be deleted")
    await service.settled()
    assert await service.links(booking_id=reserved.booking_id) == []
    assert service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id) == []
