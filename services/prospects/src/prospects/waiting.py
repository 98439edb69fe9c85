"""Requests that wait for a booking to settle (``GET /bookings/{id}?wait=S``, ``POST /bookings?wait=S``)
and what wakes them.

A waiter registers before it reads the booking (or, for a new booking, before it is committed),
so a change committed between the read and the wait still wakes it. Wake-ups come from two
places: the unit of work that settled the booking in this process, right after its commit,
handing over the booking as it committed it (the waiter answers without reading it again); and
the booking events on Kafka, for a change that another replica made (the waiter reads the
booking). Nothing polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID


class Watch:
    """One waiting request's view of one booking."""

    __slots__ = ("_woken", "settled")

    def __init__(self) -> None:
        self._woken = asyncio.Event()
        self.settled: Mapping[str, Any] | None = None  # the booking as its settling commit left it

    def clear(self) -> None:
        self._woken.clear()
        self.settled = None

    def wake(self, settled: Mapping[str, Any] | None) -> None:
        self.settled = settled
        self._woken.set()

    async def woken_within(self, timeout: float) -> bool:
        if timeout <= 0:
            return self._woken.is_set()
        try:
            await asyncio.wait_for(self._woken.wait(), timeout)
        except TimeoutError:
            return False
        return True


class BookingWaiters:
    def __init__(self) -> None:
        self._waiting: dict[UUID, set[Watch]] = {}

    @contextmanager
    def watch(self, booking_id: UUID) -> Iterator[Watch]:
        """Woken whenever the booking's status may have changed."""
        watch = Watch()
        self._waiting.setdefault(booking_id, set()).add(watch)
        try:
            yield watch
        finally:
            waiting = self._waiting.get(booking_id)
            if waiting is not None:
                waiting.discard(watch)
                if not waiting:
                    del self._waiting[booking_id]

    def notify(self, *booking_ids: UUID) -> None:
        """A change seen from afar: the waiters read the booking."""
        for booking_id in booking_ids:
            for watch in self._waiting.get(booking_id, ()):
                watch.wake(None)

    def settled(self, bookings: Mapping[UUID, Mapping[str, Any]]) -> None:
        """Bookings this process just settled, as committed."""
        for booking_id, booking in bookings.items():
            for watch in self._waiting.get(booking_id, ()):
                watch.wake(booking)

    def __len__(self) -> int:
        return sum(len(w) for w in self._waiting.values())
