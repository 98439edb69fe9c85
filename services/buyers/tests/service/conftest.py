"""A running buyers service against real Kafka and a fresh database, driven by the prospects'
and units' events published from the test, observed through its API and ``buyers.events``."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from contracts import topics
from contracts.booking import BookingConfirmed
from contracts.envelope import Event, utcnow
from contracts.registry import UndecodableEvent, decode
from contracts.types import ProspectSnapshot, UnitStatus
from contracts.units import UnitChanged, UnitReserved

from nyprod_kit.db import make_engine
from nyprod_kit.kafka import ensure_topics
from nyprod_kit.outbox import unsent_count
from nyprod_kit.testing import fresh_database, kafka_bootstrap, running, wait_until

from buyers.db.models import outbox
from buyers.main import build_app
from buyers.settings import Settings

INPUT_TOPICS = (topics.PROSPECTS, topics.UNITS)

Offsets = dict[TopicPartition, int]


async def end_offsets(topic_names: tuple[str, ...]) -> Offsets:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topic_names for p in sorted(await _partitions(consumer, t))
        ]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    found = consumer.partitions_for_topic(topic)
    if not found:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh call
        found = consumer.partitions_for_topic(topic)
    assert found, f"topic {topic} has no partitions"
    return found


async def start_group_at(group_id: str, offsets: Offsets) -> None:
    """Give a new consumer group committed offsets, so the service starts reading there instead
    of at the beginning of topics that hold every earlier run's events."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def committed_offsets(group_id: str) -> Offsets:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        return {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group_id)).items()}
    finally:
        await admin.close()


class PublishedEvents:
    """Everything the service publishes on ``buyers.events`` from a starting position on."""

    def __init__(self, start: Offsets) -> None:
        self._start = start
        self._positions = dict(start)
        self.events: list[Event] = []
        self._consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign(list(self._start))
        for tp, offset in self._start.items():
            self._consumer.seek(tp, offset)
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for record in records:
                    with contextlib.suppress(UndecodableEvent):
                        self.events.append(decode(record.value))
                    self._positions[tp] = record.offset + 1

    def of(self, kind: type[Event], **fields: Any) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items())]

    async def wait_for(self, kind: type[Event], *, count: int = 1, timeout: float = 20, **fields: Any) -> list[Event]:
        async def probe() -> list[Event] | None:
            found = self.of(kind, **fields)
            return found if len(found) >= count else None

        return await wait_until(probe, timeout=timeout, message=f"{count} × {kind.TYPE} {fields}")

    async def caught_up(self) -> bool:
        ends = await end_offsets((topics.BUYERS,))
        return all(self._positions.get(tp, 0) >= end for tp, end in ends.items())


@dataclass
class BuyersService:
    client: httpx.AsyncClient
    settings: Settings
    events: PublishedEvents
    producer: AIOKafkaProducer
    group_start: Offsets
    # what this test module published about, to tell its data from other runs' on shared topics
    prospect_ids: set[uuid.UUID] = field(default_factory=set)
    booking_ids: set[uuid.UUID] = field(default_factory=set)
    unit_ids: set[uuid.UUID] = field(default_factory=set)

    async def publish(self, *events: Event) -> None:
        for event in events:
            for name, ids in (("prospect_id", self.prospect_ids), ("booking_id", self.booking_ids), ("unit_id", self.unit_ids)):
                if hasattr(event, name):
                    ids.add(getattr(event, name))
            if (prospect := getattr(event, "prospect", None)) is not None:
                self.prospect_ids.add(prospect.prospect_id)
            await self.producer.send_and_wait(event.TOPIC, event.to_bytes(), key=event.key.encode())

    async def settled(self, timeout: float = 20) -> None:
        """Waits until the service has handled everything published to its input topics so far,
        and its outbox has been published and read back: what follows sees the final state."""
        ends = await end_offsets(INPUT_TOPICS)

        async def handled() -> bool:
            done = await committed_offsets(self.settings.consumer_group)
            return all(done.get(tp, self.group_start.get(tp, 0)) >= end for tp, end in ends.items())

        await wait_until(handled, timeout=timeout, message="the service to handle its input")
        engine = make_engine(self.settings.database_url)

        async def outbox_sent() -> bool:
            return await unsent_count(engine, outbox) == 0

        try:
            await wait_until(outbox_sent, timeout=timeout, message="an empty outbox")
        finally:
            await engine.dispose()
        await wait_until(self.events.caught_up, timeout=timeout, message="buyers.events read to its end")

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def links(self, **filters: Any) -> list[dict[str, Any]]:
        return (await self.get("/api/v1/buyer-links", **{k: str(v) for k, v in filters.items()}))["items"]


@asynccontextmanager
async def buyers_service(kind: str, tmp_path: Path, *, database_url: str | None = None, group_start: Offsets | None = None) -> AsyncIterator[BuyersService]:
    """A buyers service on a fresh ``kind`` database (or ``database_url``), consuming from now on
    (or from ``group_start``) in a consumer group of its own."""
    await ensure_topics(kafka_bootstrap())
    async with contextlib.AsyncExitStack() as stack:
        if database_url is None:
            database_url = await stack.enter_async_context(fresh_database(kind, tmp_path, prefix="buyers"))
        group_start = group_start or await end_offsets(INPUT_TOPICS)
        settings = Settings(
            database_url=database_url,
            kafka_bootstrap_servers=kafka_bootstrap(),
            consumer_group=f"buyers-test-{uuid.uuid4().hex[:12]}",
            outbox_sweep_seconds=0.5,
        )
        await start_group_at(settings.consumer_group, group_start)
        events = PublishedEvents(await end_offsets((topics.BUYERS,)))
        await events.start()
        stack.push_async_callback(events.stop)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all", enable_idempotence=True)
        await producer.start()
        stack.push_async_callback(producer.stop)
        client = await stack.enter_async_context(running(build_app(settings)))
        yield BuyersService(client, settings, events, producer, group_start)


# ---- event builders: what the prospects and units services would publish --------------------


def new_prospect(first_name: str = "Anna", last_name: str | None = None, **contact: Any) -> ProspectSnapshot:
    """A prospect with a last name no other test uses, so searches find only this test's buyers."""
    return ProspectSnapshot(
        prospect_id=uuid.uuid4(),
        first_name=first_name,
        last_name=last_name or f"Svensson{uuid.uuid4().hex[:8]}",
        **contact,
    )


def unit_reserved(prospect: ProspectSnapshot, unit_id: uuid.UUID | None = None, **extra: Any) -> UnitReserved:
    """The units service's yes to a booking, carrying the request's prospect snapshot."""
    booking_id = uuid.uuid4()
    extra.setdefault("requested_at", utcnow())
    return UnitReserved(booking_id=booking_id, unit_id=unit_id or uuid.uuid4(), prospect=prospect, correlation_id=booking_id, **extra)


def booking_confirmed(reserved: UnitReserved) -> BookingConfirmed:
    assert reserved.prospect is not None
    return BookingConfirmed(
        booking_id=reserved.booking_id,
        unit_id=reserved.unit_id,
        prospect_id=reserved.prospect.prospect_id,
        correlation_id=reserved.booking_id,
    )


def unit_changed(unit_id: uuid.UUID, name: str, revision: int) -> UnitChanged:
    return UnitChanged(unit_id=unit_id, revision=revision, project_id=uuid.uuid4(), name=name, status=UnitStatus.AVAILABLE)


@pytest.fixture(scope="session")
def make() -> Callable[..., Any]:
    """The event builders above, for test modules (which cannot import this conftest)."""

    class Builders:
        prospect = staticmethod(new_prospect)
        reserved = staticmethod(unit_reserved)
        confirmed = staticmethod(booking_confirmed)
        unit_changed = staticmethod(unit_changed)

    return Builders


@pytest.fixture(scope="session")
def start_buyers_service() -> Callable[..., Any]:
    return buyers_service
