"""Which events the units service consumes, and the handler for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import topics
from contracts.booking import BookingCancelled, BookingRejected, BookingRequested
from contracts.buyers import UnitBuyersChanged
from faststream.kafka import KafkaBroker

from nyprod_kit.consumer import subscribe, with_unit_of_work

from .. import handlers
from ..db.uow import UnitsUnitOfWork


def register(broker: KafkaBroker, uow_factory: Callable[[], UnitsUnitOfWork], **options: Any) -> None:
    subscribe(
        broker,
        topics.PROSPECTS,
        topics.BUYERS,
        **options,
        handlers=with_unit_of_work(
            uow_factory,
            {
                BookingRequested: handlers.on_booking_requested,
                BookingRejected: handlers.on_booking_rejected,
                BookingCancelled: handlers.on_booking_cancelled,
                UnitBuyersChanged: handlers.on_unit_buyers_changed,
            },
            unless={BookingRejected: handlers.refused_here},
        ),
    )
