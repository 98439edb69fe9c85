"""A transaction's booking saves are written together at commit (one statement on PostgreSQL),
each still only if its booking is as it was read."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.types import BookingStatus

from prospects.booking_saga import Answer, Booking
from prospects.db.models import MIGRATIONS
from prospects.db.repo import BookingChangedMeanwhile, BookingRepo
from nyprod_kit.testing import migrated_database

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def sessions(request, tmp_path_factory):
    async with migrated_database(request.param, tmp_path_factory.mktemp("prospects-saves"), "prospectssaves", MIGRATIONS) as sessions:
        yield sessions


async def pending_bookings(sessions, count: int) -> list[Booking]:
    made = [
        Booking(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), BookingStatus.PENDING, (), NOW + timedelta(seconds=30))
        for _ in range(count)
    ]
    async with sessions() as session:
        for booking in made:
            await BookingRepo(session).add(replace(booking, buyers=(booking.prospect_id,)), "agent", NOW)
        await session.commit()
    return made


async def test_every_save_of_a_transaction_is_written_and_read_back_before_commit(sessions):
    first, second = await pending_bookings(sessions, 2)
    async with sessions() as session:
        repo = BookingRepo(session)
        await repo.lock_all([first.booking_id, second.booking_id])
        one = await repo.load(first.booking_id)
        await repo.save(one, replace(one.booking, unit_answer=Answer.YES), NOW)
        # the same booking again in the same transaction: its second answer settles it
        again = await repo.load(first.booking_id)
        await repo.save(again, replace(again.booking, buyer_answer=Answer.YES, status=BookingStatus.CONFIRMED), NOW)
        other = await repo.load(second.booking_id)
        await repo.save(other, replace(other.booking, status=BookingStatus.REJECTED, reason="unit_not_available"), NOW)
        assert (await repo.get(first.booking_id))["status"] == "confirmed"  # a read sees the saves
        await session.commit()
    async with sessions() as session:
        repo = BookingRepo(session)
        confirmed, rejected = await repo.get(first.booking_id), await repo.get(second.booking_id)
    assert (confirmed["status"], confirmed["unit_answer"], confirmed["buyer_answer"], confirmed["version"]) == ("confirmed", "yes", "yes", 3)
    assert (rejected["status"], rejected["reason"], rejected["version"]) == ("rejected", "unit_not_available", 2)


async def test_a_save_from_a_stale_read_is_refused_at_commit(sessions):
    [booking] = await pending_bookings(sessions, 1)
    async with sessions() as session:
        stale = await BookingRepo(session).load(booking.booking_id)
    async with sessions() as session:  # another writer ends the booking first
        repo = BookingRepo(session)
        fresh = await repo.load(booking.booking_id)
        await repo.save(fresh, replace(fresh.booking, status=BookingStatus.REJECTED, reason="timeout"), NOW)
        await repo.flush()
        await session.commit()
    async with sessions() as session:
        repo = BookingRepo(session)
        await repo.save(stale, replace(stale.booking, status=BookingStatus.CONFIRMED), NOW)
        with pytest.raises(BookingChangedMeanwhile):
            await repo.flush()
        await session.rollback()
    async with sessions() as session:
        assert (await BookingRepo(session).get(booking.booking_id))["status"] == "rejected"
