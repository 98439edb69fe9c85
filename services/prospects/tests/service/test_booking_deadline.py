"""Every saga ends: the deadline sweeper rejects bookings nobody answered, exactly once even when
sweepers and late answers race — on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

import pytest
from contracts.booking import BookingConfirmed, BookingRejected, BookingRequested
from contracts.buyers import BuyerCreated
from contracts.units import UnitReservationRejected, UnitReserved
from sqlalchemy.exc import OperationalError

from nyprod_kit.testing import fresh_database, wait_until
from prospects import handlers

API = "/api/v1"


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
async def hasty(database_kind: str, make_service, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator:  # noqa: ANN001
    """Bookings get one second; the sweeper looks ten times a second."""
    async with fresh_database(database_kind, tmp_path_factory.mktemp("hasty"), prefix="prospects_deadline") as url:
        async with make_service(url, booking_deadline_seconds=1.0, booking_sweep_seconds=0.1) as svc:
            yield svc


async def test_booking_is_rejected_with_timeout_when_nobody_answers_in_time(hasty) -> None:  # noqa: ANN001
    booking_id = await hasty.booking((await hasty.prospect())["id"], await hasty.unit())
    started = time.monotonic()

    booking = await hasty.settled(booking_id, wait=15)

    assert (booking["status"], booking["reason"]) == ("rejected", "timeout")
    assert 0.9 <= time.monotonic() - started < 5
    events = await hasty.outbox_events(booking_id=UUID(booking_id))
    assert [type(e) for e in events] == [BookingRequested, BookingRejected]
    assert events[1].reason == "timeout"
    history = (await hasty.client.get(f"{API}/bookings/{booking_id}/history")).json()["items"]
    assert (history[-1]["step"], history[-1]["status"], history[-1]["reason"]) == ("CheckDeadline", "rejected", "timeout")


async def test_answers_are_ignored_when_they_come_after_the_deadline(hasty, publish) -> None:  # noqa: ANN001
    prospect = await hasty.prospect()
    unit = await hasty.unit()
    booking_id = await hasty.booking(prospect["id"], unit)
    assert (await hasty.settled(booking_id, wait=15))["reason"] == "timeout"

    late = BuyerCreated(unit_id=unit, booking_id=UUID(booking_id), buyer_id=uuid.uuid4(), prospect_id=UUID(prospect["id"]))
    await publish(UnitReserved(unit_id=unit, booking_id=UUID(booking_id)), late)
    await wait_until(lambda: hasty.handled(late), message="late answers handled")

    assert (await hasty.settled(booking_id, wait=0))["status"] == "rejected"
    assert [type(e) for e in await hasty.outbox_events(booking_id=UUID(booking_id))] == [BookingRequested, BookingRejected]
    assert (await hasty.client.get(f"{API}/prospects/{prospect['id']}")).json()["status"] == "prospect"


async def test_answered_booking_is_left_alone_when_its_deadline_passes(hasty, publish) -> None:  # noqa: ANN001
    prospect = await hasty.prospect()
    unit = await hasty.unit()
    booking_id = await hasty.booking(prospect["id"], unit)
    await publish(
        UnitReserved(unit_id=unit, booking_id=UUID(booking_id)),
        BuyerCreated(unit_id=unit, booking_id=UUID(booking_id), buyer_id=uuid.uuid4(), prospect_id=UUID(prospect["id"])),
    )
    assert (await hasty.settled(booking_id))["status"] == "confirmed"

    async def swept_past_deadline() -> bool:
        async with hasty.app.state.uow_factory() as uow:
            return not await uow.bookings.overdue(handlers._now(), 1000)

    await wait_until(swept_past_deadline, timeout=15, message="nothing overdue left")
    assert (await hasty.settled(booking_id, wait=0))["status"] == "confirmed"


# ---- races ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def idle_sweeper(database_kind: str, make_service, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator:  # noqa: ANN001
    """Bookings get 0.3 seconds, but only the test sweeps."""
    async with fresh_database(database_kind, tmp_path_factory.mktemp("idle"), prefix="prospects_deadline") as url:
        async with make_service(url, booking_deadline_seconds=0.3, booking_sweep_seconds=3600) as svc:
            yield svc


async def _as_the_consumer_would(call: Callable[[], Awaitable[object]]) -> None:
    """Retry while the database says it is busy (SQLite lets one writer through at a time)."""
    for _ in range(50):
        try:
            await call()
            return
        except OperationalError:
            await asyncio.sleep(0.02)
    raise AssertionError("the database stayed busy")


async def test_each_booking_ends_once_when_sweepers_and_late_answers_race(idle_sweeper) -> None:  # noqa: ANN001
    svc = idle_sweeper
    unit = await svc.unit()
    booking_ids = [UUID(await svc.booking((await svc.prospect())["id"], unit)) for _ in range(10)]

    async def all_overdue() -> bool:
        async with svc.app.state.uow_factory() as uow:
            return set(booking_ids) <= set(await uow.bookings.overdue(handlers._now(), 1000))

    await wait_until(all_overdue, timeout=10, message="the deadlines to pass")
    factory = svc.app.state.uow_factory
    sweeps = [lambda: handlers.reject_overdue_bookings(factory) for _ in range(3)]
    answers = [
        (lambda b=b: handlers.on_unit_reservation_rejected(UnitReservationRejected(unit_id=unit, booking_id=b, reason="unit_not_available"), factory()))
        for b in booking_ids
    ]

    await asyncio.gather(*(_as_the_consumer_would(call) for call in [*sweeps, *answers]))

    for booking_id in booking_ids:
        booking = (await svc.client.get(f"{API}/bookings/{booking_id}")).json()
        endings = [e for e in await svc.outbox_events(booking_id=booking_id) if isinstance(e, (BookingRejected, BookingConfirmed))]
        assert len(endings) == 1, endings
        assert booking["status"] == "rejected"
        assert booking["reason"] == endings[0].reason in ("timeout", "unit_not_available")
