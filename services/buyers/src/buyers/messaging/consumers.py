"""Which events the buyers service consumes, and the handler for each."""

from __future__ import annotations

from collections.abc import Callable

from contracts import topics
from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    CoBuyerAdded,
    CoBuyerRemoved,
    ProspectChanged,
    ProspectErased,
)
from contracts.units import UnitChanged
from faststream.kafka import KafkaBroker

from nyprod_kit.consumer import subscribe

from .. import handlers
from ..db.uow import BuyersUnitOfWork


def register(broker: KafkaBroker, uow_factory: Callable[[], BuyersUnitOfWork], *, group_id: str, max_attempts: int, workers: int = 1) -> None:
    def bind(fn):  # noqa: ANN001, ANN202
        async def handle(event) -> None:  # noqa: ANN001
            await fn(event, uow_factory())

        return handle

    subscribe(
        broker,
        topics.PROSPECTS,
        topics.UNITS,
        group_id=group_id,
        max_attempts=max_attempts,
        workers=workers,
        handlers={
            BookingRequested: bind(handlers.on_booking_requested),
            BookingConfirmed: bind(handlers.on_booking_confirmed),
            BookingRejected: bind(handlers.on_booking_rejected),
            BookingCancelled: bind(handlers.on_booking_cancelled),
            CoBuyerAdded: bind(handlers.on_co_buyer_added),
            CoBuyerRemoved: bind(handlers.on_co_buyer_removed),
            ProspectChanged: bind(handlers.on_prospect_changed),
            ProspectErased: bind(handlers.on_prospect_erased),
            UnitChanged: bind(handlers.on_unit_changed),
        },
    )
