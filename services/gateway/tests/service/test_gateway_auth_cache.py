"""Checking each call's user without a query per call: what a rush costs the users database,
how soon another replica's change counts, and what a caller sees when no database connection
is free. On PostgreSQL, as deployed."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from sqlalchemy import event

import gateway.main
from nyprod_kit.db import make_engine
from nyprod_kit.testing import fresh_database


@pytest.fixture(scope="module")
async def database_url(tmp_path_factory):
    async with fresh_database("postgres", tmp_path_factory.mktemp("users"), prefix="gwcache") as url:
        yield url


class Statements:
    """Counts the SQL statements an app's engine runs on the users table."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.count = 0
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_rest: object) -> None:  # noqa: ANN001
        if "users" in statement:
            self.count += 1


@pytest.fixture
def errors():
    """What the server logs at ERROR (an escaped exception: 'Exception in ASGI application')."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


async def test_rush_of_calls_reads_the_user_once_when_its_token_is_valid(database_url, make_settings, serve, build, login):
    app = build(make_settings(database_url=database_url))
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        agent = await login(client, "agent")
        statements = Statements(app)
        answers = await asyncio.gather(*(client.get("/api/v1/auth/me", headers=agent) for _ in range(200)))
        assert {a.status_code for a in answers} == {200}
        assert statements.count <= 1


async def test_change_through_another_replica_counts_when_cache_time_has_passed(database_url, make_settings, serve, build, login):
    settings = make_settings(database_url=database_url, user_cache_seconds=1.0)
    async with (
        serve(build(settings)) as first_url,
        serve(build(settings)) as second_url,
        httpx.AsyncClient(base_url=first_url, timeout=30) as first,
        httpx.AsyncClient(base_url=second_url, timeout=30) as second,
    ):
        admin = await login(first, "admin")
        name = f"cache-{uuid.uuid4().hex[:8]}"
        created = await first.post("/api/v1/users", json={"username": name, "password": "first password", "role": "agent"}, headers=admin)
        assert created.status_code == 201
        token = await login(second, name, "first password")
        assert (await second.get("/api/v1/auth/me", headers=token)).json()["role"] == "agent"  # now cached there

        assert (await first.patch(f"/api/v1/users/{name}", json={"role": "viewer"}, headers=admin)).status_code == 200
        assert (await first.get("/api/v1/auth/me", headers=token)).status_code == 401  # at once where it changed
        loop = asyncio.get_running_loop()
        changed_at = loop.time()
        while (await second.get("/api/v1/auth/me", headers=token)).status_code == 200:
            assert loop.time() - changed_at < 1.0 + 0.5, "the other replica still accepts the old token"
            await asyncio.sleep(0.05)

        assert (await first.delete(f"/api/v1/users/{name}", headers=admin)).status_code == 204
        await asyncio.sleep(1.1)
        refused = await second.post("/api/v1/auth/token", json={"username": name, "password": "first password"})
        assert refused.status_code == 401


async def test_call_gets_a_clean_503_when_no_database_connection_is_free(
    database_url, make_settings, serve, build, login, errors, monkeypatch
):
    # one connection and a short wait for it, so the pool can be exhausted by hand
    monkeypatch.setattr(
        gateway.main, "make_engine", lambda url: make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    )
    app = build(make_settings(database_url=database_url))
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        agent = await login(client, "agent")  # not yet checked by any call: its first call reads the user
        async with app.state.engine.connect():
            answer = await client.get("/api/v1/auth/me", headers=agent)
            refused_login = await client.post("/api/v1/auth/token", json={"username": "agent", "password": "agent"})
        assert answer.status_code == 503
        assert answer.json() == {"detail": "the gateway is busy, try again shortly"}
        assert refused_login.status_code == 503
        assert (await client.get("/api/v1/auth/me", headers=agent)).status_code == 200  # and it recovers
    assert [r.getMessage() for r in errors] == []
