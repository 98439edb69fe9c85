"""Which events the buyers service consumes, and the handler for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import topics
from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    CoBuyerAdded,
    CoBuyerRemoved,
    ProspectChanged,
    ProspectErased,
)
from contracts.units import UnitChanged, UnitReserved
from faststream.kafka import KafkaBroker

from nyprod_kit.consumer import subscribe, with_unit_of_work

from .. import handlers
from ..db.uow import BuyersUnitOfWork


def register(broker: KafkaBroker, uow_factory: Callable[[], BuyersUnitOfWork], **options: Any) -> None:
    subscribe(
        broker,
        topics.PROSPECTS,
        topics.UNITS,
        **options,
        handlers=with_unit_of_work(
            uow_factory,
            {
                UnitReserved: handlers.on_unit_reserved,
                BookingConfirmed: handlers.on_booking_confirmed,
                BookingRejected: handlers.on_booking_rejected,
                BookingCancelled: handlers.on_booking_cancelled,
                CoBuyerAdded: handlers.on_co_buyer_added,
                CoBuyerRemoved: handlers.on_co_buyer_removed,
                ProspectChanged: handlers.on_prospect_changed,
                ProspectErased: handlers.on_prospect_erased,
                UnitChanged: handlers.on_unit_changed,
            },
            unless={BookingRejected: handlers.never_reached_buyers},
        ),
    )
