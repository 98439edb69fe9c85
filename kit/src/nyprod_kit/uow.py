"""Unit of work: one database transaction holding a state change, the events it publishes
(outbox rows) and, for consumers, the handled event's inbox row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from contracts.envelope import Event
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Insert

from .db import insert_ignoring_duplicates
from .outbox import OutboxRelay, outbox_rows


class BatchAborted(Exception):
    """A handler inside a shared transaction failed or left without committing: the whole batch
    is rolled back (and its events are handled again, each in a transaction of its own)."""


class UnitOfWork:
    """``async with uow: ...; await uow.commit()`` — leaving the block without commit rolls back.

    Services subclass it to hang their repositories on ``self.session``.

    Inside ``shared_transaction()`` (a consumer handling a fetched batch of events) every
    ``async with uow`` block joins one transaction and its ``commit()`` only marks the block
    done; the real commit happens once at the end. A block that raises — even if its handler
    catches the error and tries again — or that leaves without committing after doing anything
    but spotting a duplicate aborts the batch, since its half-done writes cannot be undone alone.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        inbox: Table,
        relay: OutboxRelay | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self._inbox = inbox
        self._relay = relay
        self.session: AsyncSession
        self._events: list[Event] = []
        self._shared = False  # inside shared_transaction()
        self._batch: dict[UUID, Event] = {}  # the shared transaction's events by id
        self._unclaimed: dict[str, list[UUID]] = {}  # per consumer: fresh events of the batch
        self._block_done = False  # the current joined block committed or met a duplicate
        self._broken = False

    async def __aenter__(self) -> Self:
        if self._shared:
            if self._broken:
                raise BatchAborted("an earlier handler of this batch failed")
            self._block_done = False
            return self
        self.session = self._sessionmaker()
        self._events = []
        self.on_enter()
        return self

    def on_enter(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    async def on_batch(self, events: Sequence[Event]) -> None:
        """Hook for subclasses: prepare, in the shared transaction, for handling ``events`` —
        say, lock and read in one statement the rows they are all about."""

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        if self._shared:
            if exc_type is not None or not self._block_done:
                self._broken = True
                if exc_type is None:
                    raise BatchAborted("a handler left its unit of work without committing")
            return
        await self.session.rollback()
        await self.session.close()

    @asynccontextmanager
    async def shared_transaction(self, events: Sequence[Event] = ()) -> AsyncIterator[Self]:
        """One transaction for many handlers (see the class doc); committed when the block ends
        without error, else rolled back with ``BatchAborted`` or the handler's own error.
        ``events``: the batch, whose inbox rows are then written in one statement."""
        async with self:
            self._shared, self._broken = True, False
            self._batch, self._unclaimed = {e.event_id: e for e in events}, {}
            try:
                await self.on_batch(events)
                yield self
            finally:
                self._shared, self._batch, self._unclaimed = False, {}, {}
            if self._broken:
                raise BatchAborted("a handler of this batch failed")
            await self.commit()

    def publish(self, *events: Event) -> None:
        """Publish on commit (and only if the commit succeeds)."""
        self._events.extend(events)

    async def first_time(self, consumer: str, event: Event) -> bool:
        """Record that ``consumer`` handles ``event``; False if it already did (a duplicate)."""
        if self._shared and event.event_id in self._batch:
            fresh = await self._claim_batch(consumer)
            if event.event_id in fresh:
                fresh.remove(event.event_id)  # a second copy in the same batch is a duplicate
                return True
        elif (await self.session.execute(self._insert_inbox(), self._inbox_row(consumer, event))).rowcount == 1:
            return True
        self._block_done = True  # a duplicate: leaving without commit is what the handler does
        return False

    async def _claim_batch(self, consumer: str) -> list[UUID]:
        """The inbox rows of the whole batch in one statement, the first time it is needed; the
        ids of the events this consumer had not handled before."""
        if consumer not in self._unclaimed:
            # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs from one cached
            # compiled statement (.values(rows) would compile anew for every batch)
            rows = [self._inbox_row(consumer, e) for e in self._batch.values()]
            stmt = self._insert_inbox().returning(self._inbox.c.event_id)
            self._unclaimed[consumer] = list((await self.session.execute(stmt, rows)).scalars())
        return self._unclaimed[consumer]

    def _insert_inbox(self) -> Insert:
        return insert_ignoring_duplicates(self._inbox, self.session.bind.dialect.name)

    @staticmethod
    def _inbox_row(consumer: str, event: Event) -> dict[str, Any]:
        return {"consumer": consumer, "event_id": event.event_id, "event_type": event.TYPE, "handled_at": datetime.now(UTC)}

    async def commit(self) -> None:
        if self._shared:
            self._block_done = True
            return
        await self.before_commit()
        if self._events:
            await self.session.execute(self._outbox.insert(), outbox_rows(self._events))
        await self.session.commit()
        if self._events and self._relay is not None:
            self._relay.wake()
        self._events = []
        self.after_commit()

    async def before_commit(self) -> None:
        """Hook for subclasses: writes gathered during the transaction, done together at its end."""

    def after_commit(self) -> None:
        """Hook for subclasses: what to do once the transaction is durable."""
