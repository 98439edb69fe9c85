"""Transactional outbox: events are rows written in the same transaction as the state change;
the relay publishes them to Kafka after commit and marks them sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from contracts.envelope import Event
from faststream.kafka import KafkaBroker
from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

# Any constant works: it names "the outbox relay" for pg_try_advisory_xact_lock.
_RELAY_LOCK_ID = 7_340_021


def outbox_rows(events: Iterable[Event]) -> list[dict]:
    now = datetime.now(UTC)
    return [
        {
            "event_id": e.event_id,
            "topic": e.TOPIC,
            "key": e.key,
            "event_type": e.TYPE,
            "body": e.to_bytes().decode(),
            "created_at": now,
        }
        for e in events
    ]


class OutboxRelay:
    """Publishes unsent outbox rows in id order.

    ``wake()`` is called after each commit that wrote events, so latency is one publish; the
    timer sweeps rows left behind by a crash or a broker outage. Several replicas may run: on
    PostgreSQL one at a time holds an advisory lock, which also keeps the publish order equal to
    the commit order of rows (per key, that is the order consumers see).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        broker: KafkaBroker,
        *,
        sweep_seconds: float = 1.0,
        batch_size: int = 200,
        keep_sent_for: timedelta = timedelta(days=7),
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._broker = broker
        self._sweep_seconds = sweep_seconds
        self._batch_size = batch_size
        self._keep_sent_for = keep_sent_for
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._postgres = engine.dialect.name == "postgresql"
        ob = outbox
        unsent = select(ob.c.id).where(ob.c.sent_at.is_(None)).order_by(ob.c.id).limit(batch_size)
        self._claim = (
            update(ob)
            .where(ob.c.id.in_(unsent))
            .values(sent_at=bindparam("now"))
            .returning(ob.c.id, ob.c.topic, ob.c.key, ob.c.body, ob.c.event_id)
        )
        self._take_lock = select(func.pg_try_advisory_xact_lock(_RELAY_LOCK_ID))

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        last_cleanup = datetime.now(UTC)
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._sweep_seconds)
            except TimeoutError:
                pass
            self._wakeup.clear()
            try:
                while await self.publish_pending() == self._batch_size:
                    pass
                if datetime.now(UTC) - last_cleanup > timedelta(minutes=10):
                    await self._delete_old_sent()
                    last_cleanup = datetime.now(UTC)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: the sweep retries
                log.warning("outbox relay: %s: %s; retrying", type(exc).__name__, exc)
                await asyncio.sleep(min(self._sweep_seconds, 1.0))

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows it sent."""
        async with self._engine.begin() as conn:
            if self._postgres:
                got = await conn.scalar(self._take_lock)
                if not got:
                    return 0
            # Claimed (marked sent) and read in one statement; the mark only becomes durable if
            # every publish below is acknowledged, else the transaction rolls back and the rows
            # are sent again.
            rows = sorted((await conn.execute(self._claim, {"now": datetime.now(UTC)})).all(), key=lambda r: r.id)
            if not rows:
                return 0
            # Sends are queued in id order without waiting between them (same-partition order
            # is kept by the producer), then every acknowledgement is awaited before commit.
            futures = [
                await self._broker.publish(
                    row.body.encode(),
                    topic=row.topic,
                    key=row.key.encode(),
                    correlation_id=str(row.event_id),
                    headers={"content-type": "application/json"},
                    no_confirm=True,
                )
                for row in rows
            ]
            await asyncio.gather(*futures)
        return len(rows)

    async def _delete_old_sent(self) -> None:
        ob = self._outbox
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(ob).where(ob.c.sent_at < datetime.now(UTC) - self._keep_sent_for)
            )


async def unsent_count(engine: AsyncEngine, outbox: Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))) or 0)


