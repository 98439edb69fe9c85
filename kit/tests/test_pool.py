"""The API pool checks a connection only after it lay idle: one that was cut while idle is
replaced before a request meets it, and one in steady use costs no extra round trips."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from nyprod_kit.db import make_engine
from nyprod_kit.testing import fresh_database


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as c:
        return await c.scalar(text("SELECT pg_backend_pid()"))


async def _cut(url: str, pid: int) -> None:
    """End one server connection, as a database restart or an idle timeout does."""
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
    try:
        async with admin.connect() as c:
            assert await c.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # pg_terminate_backend only signals: wait, with a deadline, until the process is gone
            await c.execute(text("SET statement_timeout = '10s'"))
            await c.execute(
                text("DO $$ BEGIN WHILE EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %d) LOOP PERFORM pg_sleep(0.01); END LOOP; END $$" % pid)
            )
    finally:
        await admin.dispose()


async def test_a_connection_cut_while_idle_is_replaced_before_use(tmp_path):
    async with fresh_database("postgres", tmp_path, "pool") as url:
        engine = make_engine(url, ping_after_idle=0.0, pool_size=1)
        try:
            pid = await _backend_pid(engine)
            await _cut(url, pid)
            assert await _backend_pid(engine) != pid
        finally:
            await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(tmp_path):
    """The counterpart: within the idle limit nothing checks the connection, so the cut one is
    handed out and the statement fails (the pool then drops it)."""
    async with fresh_database("postgres", tmp_path, "pool") as url:
        engine = make_engine(url, ping_after_idle=3600.0, pool_size=1)
        try:
            pid = await _backend_pid(engine)
            await _cut(url, pid)
            with pytest.raises(DBAPIError):
                await _backend_pid(engine)
            assert await _backend_pid(engine) != pid
        finally:
            await engine.dispose()
