"""Two replicas on one PostgreSQL database: a request waiting on one replica wakes when the other
replica settles the booking, through the booking event on Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from nyprod_kit.testing import fresh_database, wait_until

API = "/api/v1"


@pytest.fixture(scope="module")
async def replicas(make_service, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple]:  # noqa: ANN001
    async with fresh_database("postgres", tmp_path_factory.mktemp("replicas"), prefix="prospects_replicas") as url:
        async with make_service(url) as one, make_service(url) as other:
            await one.listener_positioned()
            yield one, other


async def _waiters(service) -> int:  # noqa: ANN001
    return len(service.app.state.waiters)


async def test_waiter_wakes_when_another_replica_settles_the_booking(replicas) -> None:  # noqa: ANN001
    one, other = replicas
    booking_id = await other.booking((await other.prospect())["id"], await other.unit())
    waiting = asyncio.create_task(one.client.get(f"{API}/bookings/{booking_id}", params={"wait": 25}))
    await wait_until(lambda: _waiters(one), message="the request to wait")

    started = time.monotonic()
    assert (await other.client.post(f"{API}/bookings/{booking_id}/cancel", json={"reason": "wrong unit"})).status_code == 202
    # the other replica's relay sends its outbox (BookingRequested, BookingCancelled) to Kafka
    while await other.app.state.relay.publish_pending():
        pass
    response = await asyncio.wait_for(waiting, 25)
    elapsed = time.monotonic() - started

    assert (response.json()["status"], response.json()["reason"]) == ("cancelled", "wrong unit")
    assert elapsed < 3, f"the waiting replica answered {elapsed:.2f}s after the change"
    print(f"\nthe waiting replica answered {elapsed * 1000:.0f} ms after the other replica cancelled")
