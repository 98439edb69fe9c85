"""Test helpers shared by every service's tests and the cross-service tests.

Real infrastructure only: PostgreSQL and Kafka come from environment variables when set
(``NYPROD_TEST_POSTGRES_URL``, ``KAFKA_BOOTSTRAP_SERVERS``); otherwise the root ``conftest.py``
starts them (testcontainers when a Docker engine answers, else the local launchers).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from .db import make_engine, make_sessionmaker
from .migrations import upgrade_to_head

T = TypeVar("T")


def postgres_server_url() -> str:
    """URL of the test PostgreSQL server (no database part)."""
    return os.environ.get("NYPROD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5433").rstrip("/")


def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


async def create_postgres_database(prefix: str = "t") -> str:
    """A fresh, uniquely named database; returns its asyncpg URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(f"{postgres_server_url()}/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return f"{postgres_server_url()}/{name}"


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = create_async_engine(f"{postgres_server_url()}/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


def sqlite_url(tmp_path: Any, name: str = "service") -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"


@asynccontextmanager
async def fresh_database(kind: str, tmp_path: Any, prefix: str = "t") -> AsyncIterator[str]:
    """``kind`` is "postgres" or "sqlite"; yields the URL of an empty database."""
    if kind == "sqlite":
        yield sqlite_url(tmp_path, prefix)
        return
    url = await create_postgres_database(prefix)
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@asynccontextmanager
async def migrated_database(kind: str, tmp_path: Any, prefix: str, migrations: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh ``kind`` database with a service's migrations applied."""
    async with fresh_database(kind, tmp_path, prefix) as url:
        engine = make_engine(url)
        await upgrade_to_head(engine, migrations)
        try:
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://service") -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan (broker, relay, consumers) and gives an HTTP client for it."""
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


async def wait_until(
    probe: Callable[[], Awaitable[T] | T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Polls ``probe`` (a plain or an async function) until it returns something truthy; fails
    with ``message`` at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; last value: {last!r}")
        await asyncio.sleep(interval)


def unique_topic_suffix() -> str:
    return uuid.uuid4().hex[:8]


async def start_group_at_end(group_id: str, topic_names: tuple[str, ...], bootstrap: str | None = None) -> None:
    """Commit the current end of ``topic_names`` for a new consumer group, so a service under test
    reads only what is published from now on, not the whole history of the shared topics."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    from .kafka import ensure_topics

    bootstrap = bootstrap or kafka_bootstrap()
    await ensure_topics(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh call
        partitions = [TopicPartition(t, p) for t in topic_names for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()
