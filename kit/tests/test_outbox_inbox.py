"""The delivery guarantees of the plumbing, on real Kafka and on both databases: an event is
published only if its transaction commits, is applied exactly once by a consumer in another
process-like unit (own database, own broker client), and a poison message goes to the
dead-letter topic without stopping the line."""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

import pytest
from aiokafka import AIOKafkaConsumer
from contracts import registry
from contracts.envelope import Event
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, func, insert, select

from nyprod_kit.consumer import subscribe
from nyprod_kit.db import make_engine, make_sessionmaker
from nyprod_kit.kafka import ensure_topics, make_broker
from nyprod_kit.outbox import OutboxRelay, unsent_count
from nyprod_kit.tables import inbox_table, outbox_table
from nyprod_kit.testing import fresh_database, kafka_bootstrap, wait_until
from nyprod_kit.uow import UnitOfWork

TOPIC = f"test.kit.{uuid.uuid4().hex[:8]}"


class ParcelSent(Event):
    """A stand-in event on a topic of this test's own."""

    TYPE: ClassVar[str] = "ParcelSent"
    TOPIC: ClassVar[str] = TOPIC
    KEY_FIELD: ClassVar[str] = "parcel_id"
    parcel_id: uuid.UUID
    label: str


def sender_schema() -> tuple[MetaData, Table, Table, Table]:
    md = MetaData()
    parcels = Table("parcels", md, Column("id", Uuid, primary_key=True), Column("label", String(50)))
    return md, parcels, outbox_table(md), inbox_table(md)


def receiver_schema() -> tuple[MetaData, Table, Table, Table]:
    md = MetaData()
    received = Table("received", md, Column("parcel_id", Uuid, primary_key=True), Column("times", Integer))
    return md, received, outbox_table(md), inbox_table(md)


@pytest.fixture(scope="module")
async def topic():
    await ensure_topics(kafka_bootstrap(), (TOPIC, f"{TOPIC}.dlq"))
    # known to the decoder for this module's tests only
    registry.REGISTRY[(ParcelSent.TYPE, ParcelSent.VERSION)] = ParcelSent
    yield TOPIC
    del registry.REGISTRY[(ParcelSent.TYPE, ParcelSent.VERSION)]


@pytest.mark.parametrize("db", ["postgres", "sqlite"])
async def test_event_is_published_after_commit_and_applied_once_when_delivered_twice(db, tmp_path, topic):
    async with fresh_database(db, tmp_path, "sender") as sender_url, fresh_database(db, tmp_path, "receiver") as receiver_url:
        s_md, parcels, s_outbox, s_inbox = sender_schema()
        r_md, received, r_outbox, r_inbox = receiver_schema()
        s_engine, r_engine = make_engine(sender_url), make_engine(receiver_url)
        async with s_engine.begin() as c:
            await c.run_sync(s_md.create_all)
        async with r_engine.begin() as c:
            await c.run_sync(r_md.create_all)

        sender_broker = make_broker(kafka_bootstrap(), "test-sender")
        relay = OutboxRelay(s_engine, s_outbox, sender_broker, sweep_seconds=0.5)
        receiver_broker = make_broker(kafka_bootstrap(), "test-receiver")
        r_sessions = make_sessionmaker(r_engine)
        applied_effects: list[uuid.UUID] = []

        async def on_parcel_sent(event: ParcelSent) -> None:
            async with UnitOfWork(r_sessions, r_outbox, r_inbox) as uow:
                if not await uow.first_time("receiver", event):
                    return
                await uow.session.execute(insert(received).values(parcel_id=event.parcel_id, times=1))
                await uow.commit()
                applied_effects.append(event.parcel_id)

        subscribe(receiver_broker, topic, group_id=f"receiver-{uuid.uuid4().hex[:6]}", handlers={ParcelSent: on_parcel_sent})
        await sender_broker.start()
        await receiver_broker.start()
        await relay.start()
        try:
            s_sessions = make_sessionmaker(s_engine)
            committed = ParcelSent(parcel_id=uuid.uuid4(), label="committed")
            rolled_back = ParcelSent(parcel_id=uuid.uuid4(), label="rolled back")

            async with UnitOfWork(s_sessions, s_outbox, s_inbox, relay) as uow:
                await uow.session.execute(insert(parcels).values(id=committed.parcel_id, label=committed.label))
                uow.publish(committed)
                await uow.commit()
            async with UnitOfWork(s_sessions, s_outbox, s_inbox, relay) as uow:
                await uow.session.execute(insert(parcels).values(id=rolled_back.parcel_id, label=rolled_back.label))
                uow.publish(rolled_back)
                # leaving without commit: state and outbox row vanish together

            async def applied() -> bool:
                async with r_engine.connect() as c:
                    count = await c.scalar(select(func.count()).select_from(received).where(received.c.parcel_id == committed.parcel_id))
                    return count == 1

            await wait_until(applied, timeout=15, message="the committed event to be applied")
            assert await unsent_count(s_engine, s_outbox) == 0

            # a second delivery of the very same event (same event_id), as after a rebalance
            await sender_broker.publish(committed.to_bytes(), topic=topic, key=committed.key.encode())
            marker = ParcelSent(parcel_id=uuid.uuid4(), label="marker")
            await sender_broker.publish(marker.to_bytes(), topic=topic, key=committed.key.encode())
            await wait_until(lambda: marker.parcel_id in applied_effects, timeout=15, message="the marker")

            async with r_engine.connect() as c:
                # the topic is shared with the other database's run: look at this run's parcels only
                mine = [committed.parcel_id, rolled_back.parcel_id, marker.parcel_id]
                rows = (await c.execute(select(received.c.parcel_id, received.c.times).where(received.c.parcel_id.in_(mine)))).all()
            assert sorted(r.parcel_id for r in rows) == sorted([committed.parcel_id, marker.parcel_id])
            assert all(r.times == 1 for r in rows)
            assert applied_effects.count(committed.parcel_id) == 1
            assert rolled_back.parcel_id not in applied_effects
        finally:
            await relay.stop()
            await receiver_broker.stop()
            await sender_broker.stop()
            await s_engine.dispose()
            await r_engine.dispose()


async def test_poison_message_goes_to_dead_letter_topic_and_the_consumer_moves_on(topic):
    broker = make_broker(kafka_bootstrap(), "test-poison")
    handled: list[str] = []

    async def on_parcel_sent(event: ParcelSent) -> None:
        if event.label == "explodes":
            raise ValueError("cannot handle this parcel")
        handled.append(event.label)

    subscribe(broker, topic, group_id=f"poison-{uuid.uuid4().hex[:6]}", handlers={ParcelSent: on_parcel_sent}, max_attempts=2, retry_delay=0.01)
    dlq = AIOKafkaConsumer(f"{topic}.dlq", bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest", group_id=None)
    await broker.start()
    await dlq.start()
    try:
        key = uuid.uuid4()
        not_json = b"\x00\x01 not an event"
        failing = ParcelSent(parcel_id=key, label="explodes")
        after = ParcelSent(parcel_id=key, label=f"after-{uuid.uuid4().hex[:6]}")
        for body in (not_json, failing.to_bytes(), after.to_bytes()):
            await broker.publish(body, topic=topic, key=str(key).encode())

        await wait_until(lambda: after.label in handled, timeout=15, message="the good message after the poison")

        dead: list = []

        async def both_dead_lettered() -> bool:
            batch = await dlq.getmany(timeout_ms=200)
            for records in batch.values():
                dead.extend(r for r in records if r.key == str(key).encode())
            return len(dead) >= 2

        await wait_until(both_dead_lettered, timeout=15, message="two dead letters")
        headers = [dict(r.headers) for r in dead]
        assert dead[0].value == not_json
        assert headers[0]["x-origin-topic"] == topic.encode()
        assert b"undecodable" in headers[0]["x-error"]
        assert json.loads(dead[1].value)["event_id"] == str(failing.event_id)
        assert b"cannot handle this parcel" in headers[1]["x-error"]
    finally:
        await dlq.stop()
        await broker.stop()
