"""Which events the prospects service consumes, and the handler for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import topics
from contracts.booking import BookingCancelled, BookingConfirmed, BookingRejected
from contracts.buyers import BuyerCreated, BuyerCreationFailed
from contracts.units import UnitChanged, UnitReleased, UnitReservationRejected, UnitReserved
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber

from nyprod_kit.consumer import EventHandlers, Fetched, decoded, listener, subscribe, with_unit_of_work

from .. import handlers
from ..db.uow import ProspectsUnitOfWork
from ..waiting import BookingWaiters

SETTLING = (BookingConfirmed, BookingRejected, BookingCancelled)


def saga_handlers(uow_factory: Callable[[], ProspectsUnitOfWork]) -> EventHandlers:
    """The saga's answers from units and buyers, and the unit copy."""
    return with_unit_of_work(
        uow_factory,
        {
            UnitChanged: handlers.on_unit_changed,
            UnitReserved: handlers.on_unit_reserved,
            UnitReservationRejected: handlers.on_unit_reservation_rejected,
            UnitReleased: handlers.on_unit_released,
            BuyerCreated: handlers.on_buyer_created,
            BuyerCreationFailed: handlers.on_buyer_creation_failed,
        },
    )


def register(broker: KafkaBroker, uow_factory: Callable[[], ProspectsUnitOfWork], **options: Any) -> None:
    subscribe(broker, topics.UNITS, topics.BUYERS, **options, handlers=saga_handlers(uow_factory))


def listen_for_settled_bookings(broker: KafkaBroker, waiters: BookingWaiters) -> BatchSubscriber:
    """Every replica reads this service's own booking outcomes to wake its requests waiting for
    a booking that another replica settled (one this replica settles wakes them on commit)."""
    subscriber = listener(broker, topics.PROSPECTS, title="prospects:booking-waiters")

    @subscriber
    async def wake_waiters(message: Fetched) -> None:
        for event in decoded(message.raw_message):
            if isinstance(event, SETTLING):
                waiters.notify(event.booking_id)

    return subscriber
