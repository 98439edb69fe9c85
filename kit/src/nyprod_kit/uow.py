"""Unit of work: one database transaction holding a state change, the events it publishes
(outbox rows) and, for consumers, the handled event's inbox row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Self

from contracts.envelope import Event
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
    async def shared_transaction(self) -> AsyncIterator[Self]:
        """One transaction for many handlers (see the class doc); committed when the block ends
        without error, else rolled back with ``BatchAborted`` or the handler's own error."""
        async with self:
            self._shared, self._broken = True, False
            try:
                yield self
            finally:
                self._shared = False
            if self._broken:
                raise BatchAborted("a handler of this batch failed")
            await self.commit()

    def publish(self, *events: Event) -> None:
        """Publish on commit (and only if the commit succeeds)."""
        self._events.extend(events)

    @property
    def published(self) -> list[Event]:
        return list(self._events)

    async def first_time(self, consumer: str, event: Event) -> bool:
        """Record that ``consumer`` handles ``event``; False if it already did (a duplicate)."""
        stmt = insert_ignoring_duplicates(self._inbox, self.session.bind.dialect.name).values(
            consumer=consumer,
            event_id=event.event_id,
            event_type=event.TYPE,
            handled_at=datetime.now(UTC),
        )
        result = await self.session.execute(stmt)
        if result.rowcount == 1:
            return True
        self._block_done = True  # a duplicate: leaving without commit is what the handler does
        return False

    async def commit(self) -> None:
        if self._shared:
            self._block_done = True
            return
        if self._events:
            await self.session.execute(self._outbox.insert(), outbox_rows(self._events))
        await self.session.commit()
        if self._events and self._relay is not None:
            self._relay.wake()
        self._events = []
        self.after_commit()

    def after_commit(self) -> None:
        """Hook for subclasses: what to do once the transaction is durable."""
