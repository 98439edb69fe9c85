"""The buyers service's part of the booking saga on PostgreSQL, against real Kafka: prospects'
and units' events go in, the buyers API and the events on ``buyers.events`` come out."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    CoBuyerAdded,
    CoBuyerRemoved,
    ProspectChanged,
    ProspectErased,
)
from contracts.buyers import BuyerCreated, BuyerCreationFailed, UnitBuyersChanged

from nyprod_kit.testing import wait_until


@pytest.fixture(scope="module")
async def service(start_buyers_service, tmp_path_factory):
    async with start_buyers_service("postgres", tmp_path_factory.mktemp("buyers")) as running:
        yield running


async def book(service, make, prospect=None, unit_id=None):
    """Reserved and confirmed: returns (UnitReserved, BuyerCreated)."""
    reserved = make.reserved(prospect or make.prospect(), unit_id)
    await service.publish(reserved)
    created = (await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id))[0]
    await service.publish(make.confirmed(reserved))
    await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, correlation_id=reserved.booking_id)
    return reserved, created


async def test_buyer_copy_with_pending_link_when_booking_requested(service, make):
    prospect = make.prospect("Erik", email="erik@example.se", phone="070-111 22 33")
    reserved = make.reserved(prospect)

    await service.publish(reserved)

    created = (await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id))[0]
    assert (created.unit_id, created.prospect_id, created.correlation_id) == (reserved.unit_id, prospect.prospect_id, reserved.booking_id)
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert {k: buyer[k] for k in ("prospect_id", "first_name", "last_name", "email", "phone", "units")} == {
        "prospect_id": str(prospect.prospect_id),
        "first_name": "Erik",
        "last_name": prospect.last_name,
        "email": "erik@example.se",
        "phone": "070-111 22 33",
        "units": [],  # pending links are not the buyer's units yet
    }
    [link] = await service.links(booking_id=reserved.booking_id)
    assert (link["buyer_id"], link["unit_id"], link["state"]) == (str(created.buyer_id), str(reserved.unit_id), "pending")


async def test_unit_listed_and_unit_buyers_published_when_booking_confirmed(service, make):
    unit_id = uuid4()
    await service.publish(make.unit_changed(unit_id, "B-2201", 3))
    reserved, created = await book(service, make, unit_id=unit_id)

    [changed] = service.events.of(UnitBuyersChanged, unit_id=unit_id)
    assert changed.correlation_id == reserved.booking_id
    assert [b.model_dump() for b in changed.buyers] == [
        {
            "buyer_id": created.buyer_id,
            "prospect_id": reserved.prospect.prospect_id,
            "first_name": reserved.prospect.first_name,
            "last_name": reserved.prospect.last_name,
            "booking_id": reserved.booking_id,
        }
    ]
    # the unit's name comes on another topic, handled by another worker: let both settle
    await service.settled()
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert buyer["units"] == [{"unit_id": str(unit_id), "unit_name": "B-2201", "booking_id": str(reserved.booking_id)}]
    by_unit = await service.get("/api/v1/buyers", unit_id=str(unit_id))
    assert [b["id"] for b in by_unit["items"]] == [str(created.buyer_id)] and by_unit["total"] == 1
    [link] = await service.links(booking_id=reserved.booking_id)
    assert link["state"] == "confirmed"


async def test_buyer_deleted_without_unit_buyers_event_when_its_only_booking_is_rejected(service, make):
    reserved = make.reserved(make.prospect())
    await service.publish(reserved)
    created = (await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id))[0]

    await service.publish(
        BookingRejected(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect_id=reserved.prospect.prospect_id, reason="timeout")
    )
    await service.settled()

    assert (await service.client.get(f"/api/v1/buyers/{created.buyer_id}")).status_code == 404
    assert (await service.get("/api/v1/buyers", q=reserved.prospect.last_name))["total"] == 0
    assert await service.links(booking_id=reserved.booking_id) == []
    assert service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id) == []


async def test_buyer_keeps_other_unit_when_a_later_booking_is_rejected(service, make):
    first, created = await book(service, make)
    second = make.reserved(first.prospect)
    await service.publish(second)
    again = (await service.events.wait_for(BuyerCreated, booking_id=second.booking_id))[0]
    assert again.buyer_id == created.buyer_id  # one buyer copy per prospect

    await service.publish(
        BookingRejected(booking_id=second.booking_id, unit_id=second.unit_id, prospect_id=first.prospect.prospect_id, reason="timeout")
    )
    await service.settled()

    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert [u["unit_id"] for u in buyer["units"]] == [str(first.unit_id)]
    assert await service.links(booking_id=second.booking_id) == []


async def test_one_buyer_collects_every_unit_when_a_prospect_books_several(service, make):
    first, created = await book(service, make)
    second, created_again = await book(service, make, prospect=first.prospect)

    assert created_again.buyer_id == created.buyer_id
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert {u["booking_id"] for u in buyer["units"]} == {str(first.booking_id), str(second.booking_id)}
    assert (await service.get("/api/v1/buyers", q=first.prospect.last_name))["total"] == 1


async def test_buyer_stays_with_no_units_when_booking_cancelled(service, make):
    reserved, created = await book(service, make)

    await service.publish(
        BookingCancelled(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect_ids=[reserved.prospect.prospect_id], reason="changed mind")
    )

    changes = await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, count=2)
    assert changes[-1].buyers == []
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert buyer["units"] == []
    assert buyer["last_name"] == reserved.prospect.last_name
    assert await service.links(booking_id=reserved.booking_id) == []


async def test_co_buyer_joins_and_leaves_the_unit_when_co_buyer_added_and_removed(service, make):
    reserved, holder = await book(service, make)
    partner = make.prospect("Karin", reserved.prospect.last_name)

    await service.publish(CoBuyerAdded(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect=partner))

    changes = await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, count=2)
    assert [b.first_name for b in changes[-1].buyers] == [reserved.prospect.first_name, "Karin"]
    partner_id = next(b.buyer_id for b in changes[-1].buyers if b.prospect_id == partner.prospect_id)
    partner_buyer = await service.get(f"/api/v1/buyers/{partner_id}")
    assert [u["booking_id"] for u in partner_buyer["units"]] == [str(reserved.booking_id)]
    assert {link["state"] for link in await service.links(booking_id=reserved.booking_id)} == {"confirmed"}

    await service.publish(CoBuyerRemoved(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect_id=partner.prospect_id))

    changes = await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, count=3)
    assert [b.buyer_id for b in changes[-1].buyers] == [holder.buyer_id]
    assert (await service.get(f"/api/v1/buyers/{partner_id}"))["units"] == []


async def test_nothing_changes_when_the_same_events_are_delivered_twice(service, make):
    reserved = make.reserved(make.prospect())
    confirmed = make.confirmed(reserved)
    cancelled = BookingCancelled(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect_ids=[reserved.prospect.prospect_id])

    await service.publish(reserved, reserved)
    await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id)
    await service.publish(confirmed, confirmed)
    await service.settled()
    await service.publish(reserved, confirmed)
    await service.settled()

    assert len(service.events.of(BuyerCreated, booking_id=reserved.booking_id)) == 1
    assert len(service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id)) == 1
    [link] = await service.links(booking_id=reserved.booking_id)
    assert link["state"] == "confirmed"

    await service.publish(cancelled, cancelled, confirmed)
    await service.settled()

    assert len(service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id)) == 2
    assert await service.links(booking_id=reserved.booking_id) == []


async def test_nothing_changes_when_events_concern_unknown_bookings_and_prospects(service, make):
    stranger = make.prospect()
    booking_id, unit_id = uuid4(), uuid4()
    await service.publish(
        BookingConfirmed(booking_id=booking_id, unit_id=unit_id, prospect_id=stranger.prospect_id),
        BookingRejected(booking_id=booking_id, unit_id=unit_id, prospect_id=stranger.prospect_id, reason="timeout"),
        BookingCancelled(booking_id=booking_id, unit_id=unit_id, prospect_ids=[stranger.prospect_id]),
        CoBuyerAdded(booking_id=booking_id, unit_id=unit_id, prospect=stranger),
        CoBuyerRemoved(booking_id=booking_id, unit_id=unit_id, prospect_id=stranger.prospect_id),
        ProspectChanged(prospect_id=stranger.prospect_id, first_name="X", last_name=stranger.last_name),
    )
    await service.settled()

    assert (await service.get("/api/v1/buyers", q=stranger.last_name))["total"] == 0
    assert await service.links(unit_id=unit_id) == []
    assert service.events.of(UnitBuyersChanged, unit_id=unit_id) == []


@pytest.mark.parametrize("ending", ["rejected by the deadline", "cancelled"])
async def test_no_buyer_copy_when_the_booking_ended_before_its_unit_reserved_arrived(service, make, ending):
    # the end travels on prospects.events, UnitReserved on units.events: either may come first
    reserved = make.reserved(make.prospect())
    ids = {"booking_id": reserved.booking_id, "unit_id": reserved.unit_id}
    holder = reserved.prospect.prospect_id
    end = (
        BookingRejected(**ids, prospect_id=holder, reason="timeout")
        if ending == "rejected by the deadline"
        else BookingCancelled(**ids, prospect_ids=[holder])
    )
    await service.publish(end)
    await service.settled()

    await service.publish(reserved)
    await service.settled()

    assert service.events.of(BuyerCreated, booking_id=reserved.booking_id) == []
    assert service.events.of(BuyerCreationFailed, booking_id=reserved.booking_id) == []
    assert (await service.get("/api/v1/buyers", q=reserved.prospect.last_name))["total"] == 0
    assert await service.links(booking_id=reserved.booking_id) == []


async def test_buyer_creation_fails_when_unit_reserved_carries_no_prospect(service, make):
    reserved = make.reserved(make.prospect())
    bare = reserved.model_copy(update={"prospect": None, "requested_at": None})

    await service.publish(bare)

    [failed] = await service.events.wait_for(BuyerCreationFailed, booking_id=reserved.booking_id)
    assert failed.reason == "prospect_snapshot_missing"
    assert await service.links(booking_id=reserved.booking_id) == []


async def test_buyer_creation_fails_when_the_prospect_was_erased(service, make):
    prospect = make.prospect()
    await service.publish(ProspectErased(prospect_id=prospect.prospect_id))
    await service.settled()
    reserved = make.reserved(prospect)

    await service.publish(reserved)

    [failed] = await service.events.wait_for(BuyerCreationFailed, booking_id=reserved.booking_id)
    assert (failed.reason, failed.unit_id, failed.correlation_id) == ("prospect_erased", reserved.unit_id, reserved.booking_id)
    assert service.events.of(BuyerCreated, booking_id=reserved.booking_id) == []
    assert (await service.get("/api/v1/buyers", q=prospect.last_name))["total"] == 0


async def test_buyer_without_units_is_deleted_when_the_prospect_is_erased(service, make):
    reserved, created = await book(service, make)
    await service.publish(BookingCancelled(booking_id=reserved.booking_id, unit_id=reserved.unit_id, prospect_ids=[reserved.prospect.prospect_id]))
    await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, count=2)

    await service.publish(ProspectErased(prospect_id=reserved.prospect.prospect_id))

    async def gone() -> bool:
        return (await service.client.get(f"/api/v1/buyers/{created.buyer_id}")).status_code == 404

    await wait_until(gone, message="the erased prospect's buyer copy to go")


async def test_contact_data_and_unit_card_follow_when_the_prospect_changes(service, make):
    reserved, created = await book(service, make)
    new_last = f"Berg{uuid4().hex[:8]}"

    await service.publish(
        ProspectChanged(prospect_id=reserved.prospect.prospect_id, first_name="Annika", last_name=new_last, email="annika@example.se", phone=None)
    )

    changes = await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id, count=2)
    assert [(b.first_name, b.last_name) for b in changes[-1].buyers] == [("Annika", new_last)]
    buyer = await service.get(f"/api/v1/buyers/{created.buyer_id}")
    assert (buyer["first_name"], buyer["last_name"], buyer["email"], buyer["phone"]) == ("Annika", new_last, "annika@example.se", None)
    assert (await service.get("/api/v1/buyers", q=f"annika {new_last}"))["total"] == 1

    # a booking requested earlier but delivered late carries an older snapshot: it loses
    late = make.reserved(reserved.prospect, requested_at=reserved.requested_at - timedelta(minutes=1))
    await service.publish(late)
    await service.events.wait_for(BuyerCreated, booking_id=late.booking_id)
    await service.settled()
    assert (await service.get(f"/api/v1/buyers/{created.buyer_id}"))["first_name"] == "Annika"
    assert len(service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id)) == 2


async def test_email_change_publishes_nothing_when_names_stay(service, make):
    reserved, created = await book(service, make)
    p = reserved.prospect

    await service.publish(ProspectChanged(prospect_id=p.prospect_id, first_name=p.first_name, last_name=p.last_name, email="new@example.se"))
    await service.settled()

    assert (await service.get(f"/api/v1/buyers/{created.buyer_id}"))["email"] == "new@example.se"
    assert len(service.events.of(UnitBuyersChanged, unit_id=reserved.unit_id)) == 1


async def test_unit_name_keeps_the_highest_revision_when_an_older_one_arrives_late(service, make):
    unit_id = uuid4()
    reserved, created = await book(service, make, unit_id=unit_id)
    await service.publish(make.unit_changed(unit_id, "C-3301", 5), make.unit_changed(unit_id, "C-3301 old", 4))
    await service.settled()

    [unit] = (await service.get(f"/api/v1/buyers/{created.buyer_id}"))["units"]
    assert unit["unit_name"] == "C-3301"

    await service.publish(make.unit_changed(unit_id, "C-3302", 6))
    await service.settled()
    [unit] = (await service.get(f"/api/v1/buyers/{created.buyer_id}"))["units"]
    assert unit["unit_name"] == "C-3302"


async def test_replaying_every_event_changes_nothing_when_consumed_again(service, start_buyers_service, tmp_path_factory):
    """Runs last: a second instance on the same database reads this module's events again from
    the start, in a consumer group of its own."""
    await service.settled()
    before = await replay_view(service)
    assert before["buyers"] and before["published"]

    async with start_buyers_service(
        "postgres", tmp_path_factory.mktemp("replay"), database_url=service.settings.database_url, group_start=service.group_start
    ) as replay:
        await replay.settled(timeout=60)
    await service.settled()

    assert await replay_view(service) == before


async def replay_view(service) -> dict:
    """This module's buyers, links and published events (the topics also carry other runs')."""
    prospect_ids = {str(p) for p in service.prospect_ids}
    booking_ids = {str(b) for b in service.booking_ids}
    buyers = (await service.get("/api/v1/buyers", limit=500))["items"]
    links = (await service.get("/api/v1/buyer-links", limit=500))["items"]
    return {
        "buyers": sorted((b for b in buyers if b["prospect_id"] in prospect_ids), key=lambda b: b["id"]),
        "links": sorted((link for link in links if link["booking_id"] in booking_ids), key=lambda link: (link["booking_id"], link["buyer_id"])),
        "published": [e.event_id for e in service.events.events if str(getattr(e, "booking_id", "")) in booking_ids or e.unit_id in service.unit_ids],
    }
