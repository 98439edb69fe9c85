"""A booking's UnitReserved and its end may be handled at once by two consumers (they travel on
different topics): the first claim of the booking wins, and the other waits for it and loses."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from buyers.db.models import MIGRATIONS
from buyers.db.repo import BookingClaimRepo
from buyers.domain import BookingClaim
from nyprod_kit.testing import migrated_database, wait_until


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def sessions(request, tmp_path_factory):
    async with migrated_database(request.param, tmp_path_factory.mktemp("buyers-claims"), "buyersclaims", MIGRATIONS) as sessions:
        yield sessions


async def waiting_for_a_lock(sessions) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        )
    return waiting == 1


async def test_only_the_first_claim_of_a_booking_wins(sessions):
    booking = uuid.uuid4()
    async with sessions() as session:
        assert await BookingClaimRepo(session).claim(booking, BookingClaim.BOOKING_ENDED)
        await session.commit()
    async with sessions() as session:
        assert not await BookingClaimRepo(session).claim(booking, BookingClaim.UNIT_RESERVED)
        assert not await BookingClaimRepo(session).claim(booking, BookingClaim.BOOKING_ENDED)


@pytest.fixture(scope="module")
async def postgres_sessions(tmp_path_factory):
    # SQLite lets one writer through at a time: claims cannot overlap there
    async with migrated_database("postgres", tmp_path_factory.mktemp("buyers-claims-race"), "buyersclaimsrace", MIGRATIONS) as sessions:
        yield sessions


async def test_a_concurrent_claim_waits_for_the_first_and_loses(postgres_sessions):
    sessions = postgres_sessions
    booking = uuid.uuid4()
    async with sessions() as first, sessions() as second:
        assert await BookingClaimRepo(first).claim(booking, BookingClaim.UNIT_RESERVED)
        late = asyncio.create_task(BookingClaimRepo(second).claim(booking, BookingClaim.BOOKING_ENDED))
        await wait_until(lambda: waiting_for_a_lock(sessions), message="the second claim to wait for the first")
        assert not late.done()
        await first.commit()
        assert await asyncio.wait_for(late, 10) is False
