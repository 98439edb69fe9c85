from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from contracts.envelope import Event

from nyprod_kit.uow import UnitOfWork

from ..waiting import BookingWaiters
from .repo import BookingRepo, IdempotencyRepo, ProspectRepo, UnitCopyRepo


class ProspectsUnitOfWork(UnitOfWork):
    prospects: ProspectRepo
    units: UnitCopyRepo
    bookings: BookingRepo
    idempotency: IdempotencyRepo

    def __init__(self, *args, waiters: BookingWaiters | None = None, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._waiters = waiters
        self._settled: dict[UUID, dict[str, Any]] = {}
        self._maybe_buyers: set[UUID] = set()

    def on_enter(self) -> None:
        self.prospects = ProspectRepo(self.session)
        self.units = UnitCopyRepo(self.session)
        self.bookings = BookingRepo(self.session)
        self.idempotency = IdempotencyRepo(self.session)
        self._settled = {}
        self._maybe_buyers = set()

    def refresh_buyer_status(self, prospect_ids: set[UUID]) -> None:
        """These prospects may have become or stopped being buyers: their status is brought in
        line at commit, once for the whole transaction, after the bookings are written."""
        self._maybe_buyers |= prospect_ids

    def booking_settled(self, booking: dict[str, Any]) -> None:
        """Hand the booking, as this transaction leaves it, to this process's requests waiting
        for it, once the change is committed."""
        self._settled[booking["id"]] = booking

    async def on_batch(self, events: Sequence[Event]) -> None:
        # the bookings the saga's answers are about, locked in one statement and in id order
        await self.bookings.lock_all(
            booking_id for e in events for booking_id in (*getattr(e, "booking_ids", ()), getattr(e, "booking_id", None)) if booking_id
        )

    async def before_commit(self) -> None:
        await self.bookings.flush()
        if self._maybe_buyers:
            maybe_buyers, self._maybe_buyers = self._maybe_buyers, set()
            await self.prospects.refresh_status(maybe_buyers)
        await self.bookings.write_steps()

    def after_commit(self) -> None:
        if self._waiters is not None and self._settled:
            self._waiters.settled(self._settled)
        self._settled = {}
