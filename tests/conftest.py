"""Fixtures for the cross-service tests: the whole stack as real processes on PostgreSQL."""

from __future__ import annotations

import pytest

from harness.client import Api
from harness.stack import Stack


@pytest.fixture(scope="session")
async def stack(tmp_path_factory):
    s = Stack(db="postgres", tmp=tmp_path_factory.mktemp("stack"), extra_env={"PROSPECTS_BOOKING_DEADLINE_SECONDS": "20"})
    try:
        await s.start()
        yield s
    finally:
        await s.stop()


@pytest.fixture(scope="session")
async def api(stack):
    client = await Api.login(stack.gateway_url)
    yield client
    await client.close()
