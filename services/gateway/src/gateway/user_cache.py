"""What every authenticated call needs to know about its user — the role and the token version
as stored — kept in this process for a few seconds, so that a rush of calls does not become a
rush of queries on the users table.

A change made through this process (new password, new role, deleted, created) forgets the
user at once; a change made through another gateway replica is seen here within ``ttl``
seconds. Concurrent look-ups of the same user share one query.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredUser:
    role: str
    token_version: int


Loader = Callable[[], Awaitable[StoredUser | None]]


class UserCache:
    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        # username → (valid until, the user or None when there is no such user)
        self._entries: dict[str, tuple[float, StoredUser | None]] = {}
        self._loading: dict[str, asyncio.Task[StoredUser | None]] = {}
        # bumped by every forget(): a look-up that began before a change must not store its
        # (possibly older) answer after it
        self._generation = 0

    async def get(self, username: str, load: Loader) -> StoredUser | None:
        entry = self._entries.get(username)
        if entry is not None:
            if entry[0] > self._clock():
                return entry[1]
            del self._entries[username]
        task = self._loading.get(username)
        if task is None:
            task = asyncio.create_task(load(), name=f"user look-up {username}")
            self._loading[username] = task
            task.add_done_callback(self._loaded(username, self._generation))
        # shielded: a caller that gives up must not cancel the query the others wait for
        return await asyncio.shield(task)

    def forget(self, username: str) -> None:
        self._generation += 1
        self._entries.pop(username, None)
        # later callers start a query of their own instead of joining one that may predate the change
        self._loading.pop(username, None)

    def _loaded(self, username: str, generation: int) -> Callable[[asyncio.Task[StoredUser | None]], None]:
        def done(task: asyncio.Task[StoredUser | None]) -> None:
            if self._loading.get(username) is task:
                del self._loading[username]
            if task.cancelled():
                return
            # retrieved here so a failure nobody awaited any more is not reported as unhandled
            if task.exception() is not None:
                return
            if generation != self._generation or self.ttl <= 0:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[username] = (self._clock() + self.ttl, task.result())

        return done
