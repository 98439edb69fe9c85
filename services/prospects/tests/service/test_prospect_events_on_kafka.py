"""With the outbox relay running, the events reach Kafka keyed as the contracts say, and decode
with the contracts' registry. Health checks see the database and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from contracts import topics
from contracts.booking import BookingRequested, ProspectChanged
from contracts.registry import decode

from nyprod_kit.testing import fresh_database, kafka_bootstrap, wait_until

API = "/api/v1"


@pytest.fixture(scope="module")
async def publishing(make_service, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator:  # noqa: ANN001
    async with fresh_database("postgres", tmp_path_factory.mktemp("publishing"), prefix="prospects_kafka") as url:
        async with make_service(url, relay=True) as svc:
            yield svc


@pytest.fixture
async def prospects_topic() -> AsyncIterator[AIOKafkaConsumer]:
    """Reads prospects.events from its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topics.PROSPECTS, p) for p in range(topics.PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    yield consumer
    await consumer.stop()


async def _find(consumer: AIOKafkaConsumer, seen: list, **match: object):  # noqa: ANN202
    async def probe():  # noqa: ANN202
        for records in (await consumer.getmany(timeout_ms=200)).values():
            seen.extend(records)
        for record in seen:
            event = decode(record.value)
            if all(getattr(event, k, None) == v for k, v in match.items()):
                return record, event
        return None

    return await wait_until(probe, timeout=15, message=f"an event with {match} on {topics.PROSPECTS}")


async def test_booking_request_reaches_kafka_keyed_by_unit_when_booked(publishing, prospects_topic) -> None:  # noqa: ANN001
    prospect = await publishing.prospect()
    unit = await publishing.unit()

    booking_id = await publishing.booking(prospect["id"], unit)

    record, event = await _find(prospects_topic, [], booking_id=uuid.UUID(booking_id))
    assert isinstance(event, BookingRequested)
    assert record.key == str(unit).encode()
    assert event.prospect.prospect_id == uuid.UUID(prospect["id"])


async def test_contact_change_reaches_kafka_keyed_by_prospect_when_patched(publishing, prospects_topic) -> None:  # noqa: ANN001
    prospect = await publishing.prospect()

    response = await publishing.client.patch(f"{API}/prospects/{prospect['id']}", json={"email": "new@example.se"})
    assert response.status_code == 200

    record, event = await _find(prospects_topic, [], prospect_id=uuid.UUID(prospect["id"]))
    assert isinstance(event, ProspectChanged) and event.email == "new@example.se"
    assert record.key == prospect["id"].encode()


async def test_health_sees_database_and_kafka_when_running(publishing) -> None:  # noqa: ANN001
    assert (await publishing.client.get("/healthz")).json() == {"status": "ok"}
    ready = await publishing.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
