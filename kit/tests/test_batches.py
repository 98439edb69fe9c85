"""A consumer handles what one fetch returned in one shared transaction — and a batch that goes
wrong anywhere is undone whole and redone one event at a time, so batching never loses an
event, never applies one twice and never keeps a failed handler's half-done writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar

import anyio
import pytest
from aiokafka import AIOKafkaConsumer
from contracts import registry
from contracts.envelope import Event
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nyprod_kit.consumer import subscribe, with_unit_of_work
from nyprod_kit.db import background_pool, make_engine, make_sessionmaker
from nyprod_kit.kafka import ensure_topics, make_broker
from nyprod_kit.tables import inbox_table, outbox_table
from nyprod_kit.testing import fresh_database, kafka_bootstrap, wait_until
from nyprod_kit.uow import BatchAborted, UnitOfWork

TOPIC = f"test.kit.batches.{uuid.uuid4().hex[:8]}"


class CrateLoaded(Event):
    TYPE: ClassVar[str] = "CrateLoaded"
    TOPIC: ClassVar[str] = TOPIC
    KEY_FIELD: ClassVar[str] = "crate_id"
    crate_id: uuid.UUID
    label: str


def schema() -> tuple[MetaData, Table, Table, Table]:
    md = MetaData()
    loaded = Table("loaded", md, Column("crate_id", Uuid, primary_key=True), Column("label", String(50)), Column("times", Integer))
    return md, loaded, outbox_table(md), inbox_table(md)


def loading_into(loaded: Table):  # noqa: ANN201
    """The handler under test: loads a crate once; one labelled "explodes" fails after writing."""

    async def on_crate_loaded(event: CrateLoaded, uow: UnitOfWork) -> None:
        async with uow:
            if not await uow.first_time("loader", event):
                return
            await uow.session.execute(insert(loaded).values(crate_id=event.crate_id, label=event.label, times=1))
            if event.label == "explodes":
                raise ValueError("this crate cannot be loaded")  # after writing: the write must vanish
            await uow.commit()

    return on_crate_loaded


class CountingUnitOfWork(UnitOfWork):
    commits = 0

    def after_commit(self) -> None:
        CountingUnitOfWork.commits += 1


@dataclass
class CrateDatabase:
    url: str
    engine: AsyncEngine
    loaded: Table
    outbox: Table
    inbox: Table

    def subscribe_loader(self, broker, topic: str, unless=None, **options) -> None:  # noqa: ANN001, ANN003
        """The loader under test, consuming ``topic`` in a group of its own."""
        sessions = make_sessionmaker(self.engine)
        subscribe(
            broker,
            topic,
            group_id=f"loader-{uuid.uuid4().hex[:6]}",
            handlers=with_unit_of_work(
                lambda: UnitOfWork(sessions, self.outbox, self.inbox), {CrateLoaded: loading_into(self.loaded)}, unless
            ),
            **options,
        )

    async def count_loaded(self) -> int:
        async with self.engine.connect() as c:
            return await c.scalar(select(func.count()).select_from(self.loaded))


@asynccontextmanager
async def crate_database(tmp_path, prefix: str, **pool) -> AsyncIterator[CrateDatabase]:  # noqa: ANN001, ANN003
    async with fresh_database("postgres", tmp_path, prefix) as url:
        md, loaded, outbox, inbox = schema()
        engine = make_engine(url, **pool)
        async with engine.begin() as c:
            await c.run_sync(md.create_all)
        try:
            yield CrateDatabase(url, engine, loaded, outbox, inbox)
        finally:
            await engine.dispose()


@pytest.fixture
async def topic():
    """A topic of each test's own: a fresh consumer group reads its topic from the start."""
    name = f"{TOPIC}.{uuid.uuid4().hex[:6]}"
    await ensure_topics(kafka_bootstrap(), (name, f"{name}.dlq"))
    registry.REGISTRY[(CrateLoaded.TYPE, CrateLoaded.VERSION)] = CrateLoaded
    yield name
    del registry.REGISTRY[(CrateLoaded.TYPE, CrateLoaded.VERSION)]


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_fetched_batch_commits_once_and_a_poison_event_in_it_loses_nothing(tmp_path, topic, workers):
    async with fresh_database("postgres", tmp_path, "batches") as url:
        md, loaded, outbox, inbox = schema()
        engine = make_engine(url)
        async with engine.begin() as c:
            await c.run_sync(md.create_all)
        sessions = make_sessionmaker(engine)

        broker = make_broker(kafka_bootstrap(), "test-batches")
        # every event on one partition key, so the whole backlog comes back in few fetches
        key = str(uuid.uuid4()).encode()
        first = [CrateLoaded(crate_id=uuid.uuid4(), label=f"first-{i}") for i in range(30)]
        second = [CrateLoaded(crate_id=uuid.uuid4(), label=f"second-{i}") for i in range(10)]
        poison = CrateLoaded(crate_id=uuid.uuid4(), label="explodes")
        second.insert(5, poison)
        second.append(first[3])  # a redelivery of an event handled before: applied once all the same
        second.append(second[1])  # and one of an event in the same batch
        await broker.start()
        for event in [*first, first[0]]:  # with a redelivery inside the first batch
            await broker.publish(event.to_bytes(), topic=topic, key=key)
        await broker.stop()

        consumer_broker = make_broker(kafka_bootstrap(), "test-batches-consumer")
        subscribe(
            consumer_broker,
            topic,
            group_id=f"batches-{uuid.uuid4().hex[:6]}",
            handlers=with_unit_of_work(lambda: CountingUnitOfWork(sessions, outbox, inbox), {CrateLoaded: loading_into(loaded)}),
            max_attempts=2,
            retry_delay=0.01,
            workers=workers,
        )
        dlq = AIOKafkaConsumer(f"{topic}.dlq", bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest", group_id=None)
        CountingUnitOfWork.commits = 0

        mine = loaded.c.crate_id.in_([e.crate_id for e in [*first, *second]])

        async def count(where=None) -> int:  # noqa: ANN001
            async with engine.connect() as c:
                stmt = select(func.count()).select_from(loaded).where(mine)
                return await c.scalar(stmt if where is None else stmt.where(where))

        await consumer_broker.start()
        await dlq.start()
        try:
            await wait_until(lambda: count(), timeout=20, message="the backlog to be loaded")
            await wait_until(lambda: _equals(count(), 30), timeout=20, message="all 30 of the backlog")
            # 30 events, far fewer transactions: they were handled in shared batches
            assert CountingUnitOfWork.commits < 10

            for event in second:
                await consumer_broker.publish(event.to_bytes(), topic=topic, key=key)
            await wait_until(lambda: _equals(count(), 40), timeout=20, message="the ten good events of the second batch")

            dead: list = []

            async def dead_lettered() -> bool:
                for records in (await dlq.getmany(timeout_ms=200)).values():
                    dead.extend(r for r in records if r.key == key)
                return len(dead) >= 1

            await wait_until(dead_lettered, timeout=20, message="the poison event in the dead-letter topic")
            assert [registry.decode(r.value).crate_id for r in dead] == [poison.crate_id]
            assert await count(loaded.c.crate_id == poison.crate_id) == 0
            assert await count(loaded.c.times != 1) == 0
            async with engine.connect() as c:
                handled = await c.scalar(
                    select(func.count())
                    .select_from(inbox)
                    .where(inbox.c.consumer == "loader", inbox.c.event_id.in_([e.event_id for e in [*first, *second]]))
                )
            assert handled == 40  # the poison event left no inbox row behind
        finally:
            await dlq.stop()
            await consumer_broker.stop()
            await engine.dispose()


async def _equals(awaitable, expected: int) -> bool:  # noqa: ANN001
    return await awaitable == expected


@pytest.mark.parametrize("db", ["postgres", "sqlite"])
async def test_a_handler_that_catches_its_own_failure_still_aborts_the_shared_transaction(db, tmp_path):
    async with fresh_database(db, tmp_path, "shared") as url:
        md, loaded, outbox, inbox = schema()
        engine = make_engine(url)
        async with engine.begin() as c:
            await c.run_sync(md.create_all)
        uow = UnitOfWork(make_sessionmaker(engine), outbox, inbox)
        good = CrateLoaded(crate_id=uuid.uuid4(), label="good")
        retried = CrateLoaded(crate_id=uuid.uuid4(), label="retried")

        async def handle(event: CrateLoaded) -> None:
            # like a handler retrying a lost race: the first attempt's inbox row would make the
            # second attempt look like a duplicate, so the batch must not go on
            for _ in range(2):
                try:
                    async with uow:
                        if not await uow.first_time("loader", event):
                            return
                        await uow.session.execute(insert(loaded).values(crate_id=event.crate_id, label=event.label, times=1))
                        if event is retried:
                            raise RuntimeError("lost a race")
                        await uow.commit()
                        return
                except RuntimeError:
                    continue

        with pytest.raises(BatchAborted):
            async with uow.shared_transaction():
                await handle(good)
                await handle(retried)

        async def leaves_without_commit() -> None:
            async with uow:
                await uow.first_time("loader", good)

        with pytest.raises(BatchAborted):
            async with uow.shared_transaction():
                await leaves_without_commit()

        async with engine.connect() as c:
            assert await c.scalar(select(func.count()).select_from(loaded)) == 0
            assert await c.scalar(select(func.count()).select_from(inbox)) == 0
        await engine.dispose()


async def test_a_consumer_whose_connections_were_cut_goes_on_without_losing_an_event(tmp_path, topic):
    """Background work does not ping a connection before each transaction: a batch that meets a
    connection the database has dropped is retried, and every event is still applied once."""
    async with crate_database(tmp_path, "cut", **background_pool(1)) as db:
        url, engine, loaded, inbox = db.url, db.engine, db.loaded, db.inbox
        broker = make_broker(kafka_bootstrap(), "test-cut")
        db.subscribe_loader(broker, topic, retry_delay=0.01)
        key = str(uuid.uuid4()).encode()
        before = [CrateLoaded(crate_id=uuid.uuid4(), label=f"before-{i}") for i in range(5)]
        after = [CrateLoaded(crate_id=uuid.uuid4(), label=f"after-{i}") for i in range(5)]
        count = db.count_loaded

        await broker.start()
        try:
            for event in before:
                await broker.publish(event.to_bytes(), topic=topic, key=key)
            await wait_until(lambda: _equals(count(), 5), timeout=20, message="the first events")

            # every pooled connection of this database is cut, as by a restart or a failover
            database = url.rsplit("/", 1)[1]
            admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
            async with admin.connect() as c:
                cut = await c.scalar(
                    text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                    {"db": database},
                )
            await admin.dispose()
            assert cut >= 1

            for event in after:
                await broker.publish(event.to_bytes(), topic=topic, key=key)
            await wait_until(lambda: _equals(count(), 10), timeout=30, message="the events after the cut")
            async with engine.connect() as c:
                assert await c.scalar(select(func.count()).select_from(loaded).where(loaded.c.times != 1)) == 0
                assert await c.scalar(select(func.count()).select_from(inbox)) == 10
        finally:
            await broker.stop()


async def test_a_fetch_reaches_its_handler_without_a_worker_thread(tmp_path, topic, monkeypatch):
    # FastDepends runs synchronous steps (a Context argument, a synchronous decoder) in a worker
    # thread: a thread hop for every fetch, which at a steady trickle of events costs more than
    # the handling
    hops: list[object] = []
    real_run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        hops.append(func)
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    async with crate_database(tmp_path, "threads") as db:
        broker = make_broker(kafka_bootstrap(), "test-batches-threads")
        db.subscribe_loader(broker, topic)
        await broker.start()
        try:
            for i in range(3):
                await broker.publish(CrateLoaded(crate_id=uuid.uuid4(), label=f"trickle-{i}").to_bytes(), topic=topic)
            await wait_until(lambda: _equals(db.count_loaded(), 3), timeout=20, message="the three events to be handled")
            assert hops == []
        finally:
            await broker.stop()


async def test_an_event_that_can_change_nothing_is_skipped_without_a_transaction(tmp_path, topic):
    async with crate_database(tmp_path, "unless") as db:
        broker = make_broker(kafka_bootstrap(), "test-batches-unless")
        db.subscribe_loader(broker, topic, unless={CrateLoaded: lambda e: e.label.startswith("empty")})
        key = str(uuid.uuid4()).encode()
        empty, full = (CrateLoaded(crate_id=uuid.uuid4(), label=label) for label in ("empty-1", "full-1"))
        await broker.start()
        try:
            for event in (empty, full):  # one key: the empty crate's event comes first
                await broker.publish(event.to_bytes(), topic=topic, key=key)
            await wait_until(lambda: _equals(db.count_loaded(), 1), timeout=20, message="the full crate to be loaded")
            async with db.engine.connect() as c:
                loaded_ids = set((await c.execute(select(db.loaded.c.crate_id))).scalars())
                handled = set((await c.execute(select(db.inbox.c.event_id))).scalars())
            assert loaded_ids == {full.crate_id}
            assert handled == {full.event_id}  # no inbox row: there was nothing to apply twice
        finally:
            await broker.stop()
