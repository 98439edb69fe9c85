"""The prospects service running for real (its lifespan: migrations, Kafka consumers, relay,
deadline sweeper) against real Kafka and a fresh PostgreSQL or SQLite database per test module.

Other test runs share the Kafka topics. So that none of them answers (or replays) bookings made
here, the relay is stopped unless a test asks for it: the events a booking publishes are then
read from the outbox table, and the units' and buyers' answers are published by the test itself,
as those services would. Each app gets its own consumer group, committed at the topics' current
end before it starts, so it sees every event published from then on and nothing older.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from contracts import topics
from contracts.envelope import Event
from contracts.registry import decode
from contracts.types import UnitStatus
from contracts.units import UnitChanged
from fastapi import FastAPI
from sqlalchemy import select

from nyprod_kit.testing import fresh_database, kafka_bootstrap, running, wait_until
from prospects import handlers
from prospects.db.models import inbox, outbox
from prospects.main import build_app
from prospects.settings import Settings

CONSUMED = (topics.UNITS, topics.BUYERS)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient

    async def outbox_events(self, **match: Any) -> list[Event]:
        """Every event this service has written to its outbox, decoded as consumers would; with
        ``match``, only those whose fields equal the given values."""
        async with self.app.state.engine.connect() as conn:
            bodies = (await conn.execute(select(outbox.c.body).order_by(outbox.c.id))).scalars().all()
        events = [decode(body) for body in bodies]
        return [e for e in events if all(getattr(e, k, None) == v for k, v in match.items())]

    async def handled(self, event: Event) -> bool:
        async with self.app.state.engine.connect() as conn:
            row = (await conn.execute(select(inbox.c.event_id).where(inbox.c.event_id == event.event_id))).first()
        return row is not None

    async def unit(self, name: str = "A-1101", status: UnitStatus = UnitStatus.AVAILABLE, revision: int = 1, unit_id: UUID | None = None) -> UUID:
        """A unit in this service's copy, as a UnitChanged from the units service would put it
        (through the consumer's handler, without Kafka)."""
        event = unit_changed(unit_id or uuid.uuid4(), name=name, status=status, revision=revision)
        await handlers.on_unit_changed(event, self.app.state.uow_factory())
        return event.unit_id

    async def prospect(self, **data: Any) -> dict[str, Any]:
        body = {"first_name": "Åsa", "last_name": f"Öberg-{uuid.uuid4().hex[:6]}", **data}
        response = await self.client.post("/api/v1/prospects", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def booking(self, prospect_id: Any, unit_id: Any, **headers: str) -> str:
        response = await self.client.post("/api/v1/bookings", json={"prospect_id": str(prospect_id), "unit_id": str(unit_id)}, headers=headers)
        assert response.status_code == 202, response.text
        return response.json()["booking_id"]

    async def settled(self, booking_id: Any, wait: float = 10) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/bookings/{booking_id}", params={"wait": wait})
        assert response.status_code == 200, response.text
        return response.json()

    async def listener_positioned(self) -> None:
        """Until the replica's listener for booking outcomes reads from the end of the topic."""
        consumer = self.app.state.booking_listener.consumer
        await wait_until(lambda: _async(len(consumer.assignment()) == topics.PARTITIONS), timeout=15, message="listener assignment")
        for tp in consumer.assignment():
            await consumer.position(tp)


async def _async(value: Any) -> Any:
    return value


def unit_changed(unit_id: UUID, *, name: str = "A-1101", status: UnitStatus = UnitStatus.AVAILABLE, revision: int = 1) -> UnitChanged:
    return UnitChanged(unit_id=unit_id, revision=revision, project_id=uuid.uuid4(), name=name, status=status, rooms=3, price_sek=3_450_000)


async def start_group_at_end(group_id: str, topic_names: tuple[str, ...]) -> None:
    """Commit the group's offsets at the topics' current end, so a consumer in it starts there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topic_names for p in range(topics.PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


@asynccontextmanager
async def prospects_service(database_url: str, *, relay: bool = False, **settings: Any) -> AsyncIterator[Service]:
    group = f"prospects-test-{uuid.uuid4().hex[:10]}"
    await start_group_at_end(group, CONSUMED)
    if not relay:
        settings.setdefault("outbox_sweep_seconds", 3600)
    app = build_app(Settings(database_url=database_url, consumer_group=group, **settings))
    async with running(app) as client:
        if not relay:
            await app.state.relay.stop()
        yield Service(app, client)


@pytest.fixture(scope="session")
def make_service():  # noqa: ANN201
    """``async with make_service(database_url, **settings) as service`` for tests that need their
    own settings or several replicas."""
    return prospects_service


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Service]:
    """The service on a fresh database of each kind, shared by one test module."""
    async with fresh_database(request.param, tmp_path_factory.mktemp("prospects"), prefix="prospects") as url:
        async with prospects_service(url) as svc:
            yield svc


@pytest.fixture(scope="session")
async def kafka_producer() -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all", enable_idempotence=True)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def publish(kafka_producer: AIOKafkaProducer):  # noqa: ANN201
    """Publish an event to its topic as its owning service would."""

    async def _publish(*events: Event) -> None:
        for event in events:
            await kafka_producer.send_and_wait(event.TOPIC, event.to_bytes(), key=event.key.encode())

    return _publish
