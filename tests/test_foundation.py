"""Foundation: every service's migrations build its schema from empty on both databases, and
readiness follows the real state of the database and the broker."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from contracts import topics
from contracts.units import UnitReserved
from harness.kafka_tools import read_all
from sqlalchemy import MetaData, inspect

from nyprod_kit.db import make_engine, make_sessionmaker
from nyprod_kit.kafka import ensure_topics, make_broker
from nyprod_kit.migrations import upgrade_to_head
from nyprod_kit.outbox import OutboxRelay, unsent_count
from nyprod_kit.tables import inbox_table, outbox_table
from nyprod_kit.testing import (
    create_postgres_database,
    drop_postgres_database,
    fresh_database,
    kafka_bootstrap,
    running,
    start_group_at_end,
    wait_until,
)
from nyprod_kit.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["units", "prospects", "buyers", "gateway"]


def models_of(service: str):
    try:
        return importlib.import_module(f"{service}.db.models")
    except ModuleNotFoundError:
        pytest.skip(f"{service} has no database models")


@pytest.mark.parametrize("db", ["postgres", "sqlite"])
@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_the_schema_from_empty_when_run_to_head(service, db, tmp_path):
    models = models_of(service)
    async with fresh_database(db, tmp_path, f"mig_{service}") as url:
        engine = make_engine(url)
        try:
            await upgrade_to_head(engine, models.MIGRATIONS)
            await upgrade_to_head(engine, models.MIGRATIONS)  # a second run is a no-op

            def differences(conn):
                ctx = MigrationContext.configure(conn)
                tables = set(inspect(conn).get_table_names())
                return tables, compare_metadata(ctx, models.metadata)

            async with engine.connect() as conn:
                tables, diff = await conn.run_sync(differences)
        finally:
            await engine.dispose()
    assert {"outbox", "inbox"} <= tables or service == "gateway"
    assert set(models.metadata.tables) <= tables
    # the migrations and the models describe the same schema
    significant = [d for d in diff if d[0] not in ("remove_index", "add_index")] if db == "sqlite" else diff
    # PostgreSQL-only trigram search indexes live in the migrations, not in the portable models
    significant = [d for d in significant if not (d[0] == "remove_index" and d[1].name.endswith("_trgm"))]
    assert significant == []


async def test_readyz_is_503_when_the_database_is_down_and_200_when_it_is_back():
    from units.main import build_app
    from units.settings import Settings

    url = await create_postgres_database("ready")
    try:
        app = build_app(Settings(database_url=url, kafka_bootstrap_servers=kafka_bootstrap(), consumer_group=await quiet_group()))
        async with running(app) as client:
            assert (await client.get("/readyz")).status_code == 200
            await drop_postgres_database(url)  # terminates its connections too
            resp = await client.get("/readyz")
            assert resp.status_code == 503
            assert resp.json()["checks"] == {"database": "down", "kafka": "ok"}
            await create_postgres_database_named(url)
            await wait_until(lambda: _ready(client), timeout=10, message="ready again")
    finally:
        await drop_postgres_database(url)


async def quiet_group() -> str:
    """A consumer group of this test's own that starts at the end of the shared topics, so the
    service under test does not answer other tests' events."""
    group = f"units-ready-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(group, (topics.PROSPECTS, topics.BUYERS))
    return group


async def create_postgres_database_named(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    server, name = url.rsplit("/", 1)
    engine = create_async_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


async def _ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200


@pytest.fixture
def second_broker(tmp_path):
    """A broker of this test's own, so stopping it disturbs no other test."""
    env = {**{k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}, "NYPROD_RUN_DIR": str(tmp_path / "run"), "KAFKA_PORT": "19092", "KAFKA_CONTROLLER_PORT": "19093"}
    script = ROOT / "deploy/local/kafka.sh"

    def start() -> None:
        subprocess.run([script, "start"], env=env, check=True)

    def stop() -> None:
        subprocess.run([script, "stop"], env=env, check=True)

    start()
    yield start, stop, "127.0.0.1:19092"
    stop()


async def test_readyz_is_503_when_the_broker_is_down_and_200_when_it_is_back(second_broker, tmp_path):
    from units.main import build_app
    from units.settings import Settings

    start, stop, bootstrap = second_broker
    app = build_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/units.db", kafka_bootstrap_servers=bootstrap, consumer_group=f"units-{uuid.uuid4().hex[:6]}"))
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        stop()
        resp = await client.get("/readyz")
        assert resp.status_code == 503
        assert resp.json()["checks"]["kafka"] == "down"
        start()
        await wait_until(lambda: _ready(client), timeout=30, message="ready again")


async def test_event_committed_while_the_broker_is_down_is_published_when_it_is_back(second_broker, tmp_path):
    """Nothing lost: the outbox row waits out a broker outage and the relay's sweep sends it."""
    start, stop, bootstrap = second_broker
    md = MetaData()
    outbox, inbox = outbox_table(md), inbox_table(md)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/outage.db")
    async with engine.begin() as conn:
        await conn.run_sync(md.create_all)
    await ensure_topics(bootstrap)
    broker = make_broker(bootstrap, "outage-test")
    await broker.start()
    relay = OutboxRelay(engine, outbox, broker, sweep_seconds=0.5)
    await relay.start()
    event = UnitReserved(unit_id=uuid.uuid4(), booking_id=uuid.uuid4())
    try:
        stop()
        async with UnitOfWork(make_sessionmaker(engine), outbox, inbox, relay) as uow:
            uow.publish(event)
            await uow.commit()
        assert await unsent_count(engine, outbox) == 1
        start()
        await wait_until(lambda: _all_sent(engine, outbox), timeout=60, interval=0.5, message="the relay to send the row")
        records = await read_all(bootstrap, topics.UNITS)
        assert str(event.event_id) in {json.loads(r.value)["event_id"] for r in records}
    finally:
        await relay.stop()
        await broker.stop()
        await engine.dispose()


async def _all_sent(engine, outbox) -> bool:  # noqa: ANN001
    return await unsent_count(engine, outbox) == 0


def test_service_start_ends_with_one_clear_line_when_the_broker_is_unreachable(tmp_path):
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "UNITS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/u.db",
        "UNITS_STARTUP_TIMEOUT_SECONDS": "3",
        "UNITS_PORT": "18999",
    }
    proc = subprocess.run([ROOT / ".venv/bin/python", "-m", "units"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("units: cannot reach Kafka at 127.0.0.1:1")
    assert "Traceback" not in proc.stderr


def test_service_start_ends_with_one_clear_line_when_the_database_url_is_wrong(tmp_path):
    env = {
        **os.environ,
        "UNITS_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:1/nope_{uuid.uuid4().hex[:6]}",
        "UNITS_STARTUP_TIMEOUT_SECONDS": "3",
        "UNITS_PORT": "18998",
    }
    proc = subprocess.run([ROOT / ".venv/bin/python", "-m", "units"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("units: cannot reach database postgresql+asyncpg://postgres@127.0.0.1:1/")
    assert "Traceback" not in proc.stderr
