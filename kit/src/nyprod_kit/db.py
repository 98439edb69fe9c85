"""Engine and session factory for PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from __future__ import annotations

import functools
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Insert


def make_engine(url: str, *, ping_after_idle: float | None = 5.0, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # WAL lets readers work during a write; busy_timeout makes writers queue, not fail
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # a fixed pool: under a rush, requests queue for a connection instead of opening and
    # closing overflow connections (each a new server process and a cold statement cache)
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    # the most recently returned connection first: light traffic keeps reusing a few live
    # connections, and only those left idle (the ones a restart or a timeout may have cut) wait
    # for the ping below
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_async_engine(url, **kwargs)
    if ping_after_idle is not None:
        _ping_after_idle(engine, ping_after_idle)
    return engine


def _ping_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """Check a pooled connection before use only if it lay idle for more than ``seconds``.

    SQLAlchemy's ``pool_pre_ping`` checks before every use, which for asyncpg is three round
    trips (BEGIN, an empty query, ROLLBACK): six per booking request, which opens two
    transactions. A connection in steady use has just proven itself; a dead one found here is
    replaced before the request sees it."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= seconds:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool discards it and checks out another (up to 3 tries)
            raise DisconnectionError(f"a pooled connection idle for {time.monotonic() - idle_since:.0f} s is gone") from exc


def background_pool(workers: int) -> dict[str, Any]:
    """Engine options for a service's own work besides its API: each consumer worker, the outbox
    relay (one more while it holds its lock) and a periodic sweep. Kept apart from the API's pool
    so that requests queueing for a connection in a rush never hold up the events that settle
    bookings (and free the requests). No ping before each use — that is a round trip per
    transaction, and this work retries a transaction that finds its connection gone anyway —
    but connections are renewed before idle-connection timeouts usually strike."""
    return {"pool_size": workers + 3, "ping_after_idle": None, "pool_recycle": 300}


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine_or_session: Any) -> bool:
    bind = getattr(engine_or_session, "bind", engine_or_session)
    return bind.dialect.name == "postgresql"


@functools.cache
def insert_ignoring_duplicates(table: Any, dialect_name: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on both databases. Built once per table and dialect
    (statements are immutable; ``.values()`` makes a new one): constructing a statement costs
    about as much as executing it."""
    ins = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_nothing()
