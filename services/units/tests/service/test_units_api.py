"""The units service's HTTP contract and its part of the saga, on real Kafka and databases."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from contracts import registry, topics
from contracts.booking import BookingCancelled, BookingRejected, BookingRequested
from contracts.buyers import UnitBuyer, UnitBuyersChanged
from contracts.types import ProspectSnapshot
from contracts.units import UnitChanged, UnitReservationRejected, UnitReserved

from nyprod_kit.kafka import make_broker
from nyprod_kit.testing import fresh_database, kafka_bootstrap, running, start_group_at_end, wait_until
from units.main import build_app
from units.settings import Settings


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def api(request, tmp_path_factory):
    async with fresh_database(request.param, tmp_path_factory.mktemp("units"), "units") as url:
        group = f"units-test-{uuid.uuid4().hex[:6]}"
        await start_group_at_end(group, (topics.PROSPECTS, topics.BUYERS))
        settings = Settings(database_url=url, kafka_bootstrap_servers=kafka_bootstrap(), consumer_group=group)
        async with running(build_app(settings)) as client:
            yield client


@pytest.fixture(scope="module")
async def publisher():
    broker = make_broker(kafka_bootstrap(), "units-test-publisher")
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture(scope="module")
async def units_events():
    """Everything the units service publishes from now on, decoded."""
    consumer = AIOKafkaConsumer(topics.UNITS, bootstrap_servers=kafka_bootstrap(), auto_offset_reset="latest", group_id=None)
    await consumer.start()
    await consumer.seek_to_end()
    seen: list = []

    async def collect() -> None:
        async for record in consumer:
            try:
                seen.append(registry.decode(record.value))
            except registry.UndecodableEvent:
                pass

    task = asyncio.create_task(collect())
    yield seen
    task.cancel()
    await consumer.stop()


async def publish(broker, event) -> None:
    await broker.publish(event.to_bytes(), topic=event.TOPIC, key=event.key.encode())


def snapshot() -> ProspectSnapshot:
    return ProspectSnapshot(prospect_id=uuid.uuid4(), first_name="Åsa", last_name="Öberg")


async def new_unit(api, **extra) -> dict:
    project = (await api.post("/api/v1/projects", json={"name": f"Kv. Eken {uuid.uuid4().hex[:4]}"})).json()
    resp = await api.post("/api/v1/units", json={"project_id": project["id"], "name": "A-1101", "rooms": 3, "price_sek": 3_100_000, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_unit_is_created_available_and_listed_when_posted(api):
    unit = await new_unit(api, living_area_sqm=74.5, floor=2, monthly_fee_sek=4200)
    assert unit["status"] == "available" and unit["buyers"] == [] and unit["booking_ids"] == []
    got = (await api.get(f"/api/v1/units/{unit['id']}")).json()
    assert got["name"] == "A-1101" and got["living_area_sqm"] == 74.5
    listed = (await api.get("/api/v1/units", params={"project_id": unit["project_id"], "status": "available", "q": "a-11"})).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == unit["id"]


async def test_bad_input_is_422_naming_the_field_when_posted(api):
    project = (await api.post("/api/v1/projects", json={"name": "P"})).json()
    cases = [
        ({"project_id": project["id"], "name": ""}, "name"),
        ({"project_id": project["id"], "name": "x" * 101}, "name"),
        ({"project_id": "not-a-uuid", "name": "A"}, "project_id"),
        ({"project_id": project["id"], "name": "A", "price_sek": -1}, "price_sek"),
        ({"project_id": project["id"], "name": "A", "description": "x" * 10_001}, "description"),
    ]
    for body, field in cases:
        resp = await api.post("/api/v1/units", json=body)
        assert resp.status_code == 422, body
        assert field in {str(part) for e in resp.json()["detail"] for part in e["loc"]}
    assert (await api.get("/api/v1/units", params={"limit": 501})).status_code == 422
    assert (await api.get("/api/v1/units/not-a-uuid")).status_code == 422
    assert (await api.post("/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"})).status_code == 422


async def test_unknown_ids_are_404_when_referenced(api):
    assert (await api.get(f"/api/v1/units/{uuid.uuid4()}")).status_code == 404
    resp = await api.post("/api/v1/units", json={"project_id": str(uuid.uuid4()), "name": "A"})
    assert resp.status_code == 404 and "project" in resp.json()["detail"]
    assert (await api.get(f"/api/v1/units/{uuid.uuid4()}/history")).status_code == 404


async def test_available_unit_cannot_become_booked_or_sold_when_patched(api):
    unit = await new_unit(api)
    for status in ("booked", "sold", "reserved"):
        resp = await api.patch(f"/api/v1/units/{unit['id']}", json={"status": status})
        assert resp.status_code == 409
        assert resp.json()["reason"] == "booking_required"
    resp = await api.patch(f"/api/v1/units/{unit['id']}", json={"price_sek": 3_200_000, "name": "A-1102"})
    assert resp.status_code == 200 and resp.json()["price_sek"] == 3_200_000


async def test_booking_request_books_the_unit_once_when_many_ask_at_once(api, publisher, units_events):
    unit = await new_unit(api)
    requests = [BookingRequested(booking_id=uuid.uuid4(), unit_id=unit["id"], prospect=snapshot(), requested_by="agent1") for _ in range(20)]
    await asyncio.gather(*(publish(publisher, r) for r in requests))
    asked = {r.booking_id for r in requests}

    def answers() -> list:
        return [e for e in units_events if isinstance(e, UnitReserved | UnitReservationRejected) and e.booking_id in asked]

    await wait_until(lambda: len(answers()) == 20, timeout=20, message="20 answers")
    reserved = [e for e in answers() if isinstance(e, UnitReserved)]
    assert len(reserved) == 1
    # the winner's snapshot travels on to the buyers service, which makes the buyer copy from it
    [winner] = [r for r in requests if r.booking_id == reserved[0].booking_id]
    assert (reserved[0].prospect, reserved[0].requested_at) == (winner.prospect, winner.occurred_at)
    assert all(e.reason == "unit_not_available" for e in answers() if isinstance(e, UnitReservationRejected))
    got = (await api.get(f"/api/v1/units/{unit['id']}")).json()
    assert got["status"] == "booked" and got["booking_ids"] == [str(reserved[0].booking_id)]
    history = (await api.get(f"/api/v1/units/{unit['id']}/history")).json()
    assert [(h["from"], h["to"], h["by"]) for h in history["items"]] == [(None, "available", None), ("available", "booked", "agent1")]


async def test_unknown_unit_is_rejected_when_a_booking_asks(api, publisher, units_events):
    req = BookingRequested(booking_id=uuid.uuid4(), unit_id=uuid.uuid4(), prospect=snapshot())
    await publish(publisher, req)
    found = await wait_until(
        lambda: [e for e in units_events if getattr(e, "booking_id", None) == req.booking_id], timeout=15, message="answer"
    )
    assert isinstance(found[0], UnitReservationRejected) and found[0].reason == "unit_not_found"


async def booked_unit(api, publisher, units_events) -> tuple[dict, BookingRequested]:
    unit = await new_unit(api)
    req = BookingRequested(booking_id=uuid.uuid4(), unit_id=unit["id"], prospect=snapshot())
    await publish(publisher, req)
    await wait_until(lambda: any(isinstance(e, UnitReserved) and e.booking_id == req.booking_id for e in units_events), timeout=15, message="reserved")
    return unit, req


async def test_rejected_booking_frees_the_unit_it_holds_and_duplicates_change_nothing(api, publisher, units_events):
    unit, req = await booked_unit(api, publisher, units_events)
    rejected = BookingRejected(booking_id=req.booking_id, unit_id=unit["id"], prospect_id=req.prospect.prospect_id, reason="timeout")
    await publish(publisher, rejected)
    await publish(publisher, rejected)  # delivered twice
    # a rejection of some other booking must not free it once it is booked again
    second = BookingRequested(booking_id=uuid.uuid4(), unit_id=unit["id"], prospect=snapshot())
    await publish(publisher, second)
    await wait_until(lambda: any(isinstance(e, UnitReserved) and e.booking_id == second.booking_id for e in units_events), timeout=15, message="rebooked")
    await publish(publisher, rejected)
    await publish(publisher, BookingRejected(booking_id=uuid.uuid4(), unit_id=unit["id"], prospect_id=uuid.uuid4(), reason="timeout"))
    marker = BookingRequested(booking_id=uuid.uuid4(), unit_id=unit["id"], prospect=snapshot())
    await publish(publisher, marker)
    await wait_until(lambda: any(getattr(e, "booking_id", None) == marker.booking_id for e in units_events), timeout=15, message="marker")
    got = (await api.get(f"/api/v1/units/{unit['id']}")).json()
    assert got["status"] == "booked" and got["booking_ids"] == [str(second.booking_id)]
    history = [(h["from"], h["to"]) for h in (await api.get(f"/api/v1/units/{unit['id']}/history")).json()["items"]]
    assert history == [(None, "available"), ("available", "booked"), ("booked", "available"), ("available", "booked")]


async def test_status_moves_among_taken_statuses_and_cancel_booking_frees_the_unit(api, publisher, units_events):
    unit, req = await booked_unit(api, publisher, units_events)
    for status in ("reserved", "sold", "booked", "sold"):
        resp = await api.patch(f"/api/v1/units/{unit['id']}", json={"status": status}, headers={"X-Nyprod-User": "maja"})
        assert resp.status_code == 200 and resp.json()["status"] == status
    assert (await api.patch(f"/api/v1/units/{unit['id']}", json={"status": "available"})).json()["reason"] == "cancel_booking_required"
    resp = await api.post(f"/api/v1/units/{unit['id']}/cancel-booking", json={"reason": "kunden ångrade sig"}, headers={"X-Nyprod-User": "maja"})
    assert resp.status_code == 202 and resp.json()["booking_ids"] == [str(req.booking_id)]
    got = (await api.get(f"/api/v1/units/{unit['id']}")).json()
    assert got["status"] == "available" and got["booking_ids"] == []
    history = (await api.get(f"/api/v1/units/{unit['id']}/history", params={"limit": 3, "offset": 4})).json()
    assert history["total"] == 7
    assert [(h["from"], h["to"], h["by"]) for h in history["items"]] == [("sold", "booked", "maja"), ("booked", "sold", "maja"), ("sold", "available", "maja")]
    assert (await api.post(f"/api/v1/units/{unit['id']}/cancel-booking")).json()["reason"] == "unit_not_booked"

    def published_statuses() -> list[str]:
        return [e.status.value for e in units_events if isinstance(e, UnitChanged) and e.unit_id == uuid.UUID(unit["id"])]

    # every change went out as UnitChanged, in order, ending with the unit available again
    await wait_until(lambda: published_statuses()[-1:] == ["available"], timeout=10, message="UnitChanged available")
    assert published_statuses()[-5:] == ["reserved", "sold", "booked", "sold", "available"]


async def test_cancelled_booking_frees_the_unit_and_buyers_copy_shows_on_the_unit(api, publisher, units_events):
    unit, req = await booked_unit(api, publisher, units_events)
    buyer = UnitBuyer(buyer_id=uuid.uuid4(), prospect_id=req.prospect.prospect_id, first_name="Åsa", last_name="Öberg", booking_id=req.booking_id)
    await publish(publisher, UnitBuyersChanged(unit_id=unit["id"], buyers=[buyer]))

    async def has_buyer() -> bool:
        return (await api.get(f"/api/v1/units/{unit['id']}")).json()["buyers"] == [
            {"buyer_id": str(buyer.buyer_id), "first_name": "Åsa", "last_name": "Öberg"}
        ]

    await wait_until(has_buyer, timeout=15, message="buyer on the unit")
    await publish(publisher, BookingCancelled(booking_id=req.booking_id, unit_id=unit["id"], prospect_ids=[req.prospect.prospect_id], reason="ändrade sig"))
    await publish(publisher, UnitBuyersChanged(unit_id=unit["id"], buyers=[]))

    async def freed() -> bool:
        got = (await api.get(f"/api/v1/units/{unit['id']}")).json()
        return got["status"] == "available" and got["buyers"] == []

    await wait_until(freed, timeout=15, message="unit available without buyers")
