"""Requests that wait for a booking to settle (``GET /bookings/{id}?wait=S``) and what wakes them.

A waiter registers before it reads the booking, so a change committed between the read and the
wait still wakes it. Wake-ups come from two places: the unit of work that changed the booking in
this process (right after its commit), and the booking events on Kafka, for a change that another
replica made. Nothing polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID


class BookingWaiters:
    def __init__(self) -> None:
        self._waiting: dict[UUID, set[asyncio.Event]] = {}

    @contextmanager
    def watch(self, booking_id: UUID) -> Iterator[asyncio.Event]:
        """An event that is set whenever the booking's status may have changed."""
        woken = asyncio.Event()
        self._waiting.setdefault(booking_id, set()).add(woken)
        try:
            yield woken
        finally:
            waiting = self._waiting.get(booking_id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._waiting[booking_id]

    def notify(self, *booking_ids: UUID) -> None:
        for booking_id in booking_ids:
            for woken in self._waiting.get(booking_id, ()):
                woken.set()

    def __len__(self) -> int:
        return sum(len(w) for w in self._waiting.values())
