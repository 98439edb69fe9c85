"""The background loop that ends bookings nobody answered: every saga ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from . import handlers
from .db.uow import ProspectsUnitOfWork

log = logging.getLogger(__name__)


def deadline_sweeper(uow_factory: Callable[[], ProspectsUnitOfWork], every_seconds: float) -> Callable[[], Awaitable[None]]:
    async def sweep_booking_deadlines() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                while await handlers.reject_overdue_bookings(uow_factory) == handlers.OVERDUE_BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: the next round tries again
                log.warning("booking deadline sweep failed: %s: %s", type(exc).__name__, exc)

    return sweep_booking_deadlines
