from __future__ import annotations

from uuid import UUID

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
        self._status_changed: set[UUID] = set()

    def on_enter(self) -> None:
        self.prospects = ProspectRepo(self.session)
        self.units = UnitCopyRepo(self.session)
        self.bookings = BookingRepo(self.session)
        self.idempotency = IdempotencyRepo(self.session)
        self._status_changed = set()

    def booking_status_changed(self, booking_id: UUID) -> None:
        """Wake this process's requests waiting for the booking, once the change is committed."""
        self._status_changed.add(booking_id)

    async def before_commit(self) -> None:
        await self.bookings.write_steps()

    def after_commit(self) -> None:
        if self._waiters is not None and self._status_changed:
            self._waiters.notify(*self._status_changed)
        self._status_changed = set()
