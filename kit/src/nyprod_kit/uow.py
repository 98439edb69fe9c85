"""Unit of work: one database transaction holding a state change, the events it publishes
(outbox rows) and, for consumers, the handled event's inbox row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from contracts.envelope import Event
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import insert_ignoring_duplicates
from .outbox import OutboxRelay, outbox_rows


class UnitOfWork:
    """``async with uow: ...; await uow.commit()`` — leaving the block without commit rolls back.

    Services subclass it to hang their repositories on ``self.session``.
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

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self._events = []
        self.on_enter()
        return self

    def on_enter(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    async def __aexit__(self, *exc: Any) -> None:
        await self.session.rollback()
        await self.session.close()

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
        return result.rowcount == 1

    async def commit(self) -> None:
        if self._events:
            await self.session.execute(self._outbox.insert(), outbox_rows(self._events))
        await self.session.commit()
        if self._events and self._relay is not None:
            self._relay.wake()
        self._events = []
