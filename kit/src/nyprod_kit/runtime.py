"""Process start-up shared by the services: the lifespan that starts the broker and the relay,
and ``serve()``, which checks the configuration before uvicorn starts so that a wrong URL or an
unreachable broker ends with one clear line instead of a traceback loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import make_engine
from .kafka import ensure_topics
from .migrations import upgrade_to_head
from .outbox import OutboxRelay
from .settings import ServiceSettings

log = logging.getLogger(__name__)

Background = Callable[[], Awaitable[None]]


def lifespan(
    *,
    settings: ServiceSettings,
    engine: AsyncEngine,
    broker: KafkaBroker,
    relay: OutboxRelay | None,
    migrations: Path | None,
    background: Sequence[Background] = (),
    background_engine: AsyncEngine | None = None,
):
    """Migrate, create topics, start broker + relay (+ background loops); stop in reverse."""

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine
        app.state.broker = broker
        app.state.settings = settings
        if migrations is not None:
            await upgrade_to_head(engine, migrations)
        await ensure_topics(settings.kafka_bootstrap_servers)
        await broker.start()
        if relay is not None:
            await relay.start()
        tasks = [asyncio.create_task(loop(), name=getattr(loop, "__name__", "loop")) for loop in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if relay is not None:
                await relay.stop()
            await broker.stop()
            await engine.dispose()
            if background_engine is not None:
                await background_engine.dispose()

    return _lifespan


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def first_line(exc: BaseException) -> str:
    """An exception as one line for a start-up error: its type and the first line of its text."""
    text_ = str(exc)
    return f"{type(exc).__name__}: {text_.splitlines()[0] if text_ else 'timeout'}"


async def migrate(database_url: str, migrations: Path) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_to_head(engine, migrations)
    finally:
        await engine.dispose()


async def preflight(settings: ServiceSettings) -> str | None:
    """Returns a one-line error when the database or Kafka cannot be reached, else None."""
    name = settings.service_name
    try:
        engine = make_engine(settings.database_url)
    except Exception as exc:
        return f"{name}: bad database URL {redact(settings.database_url)!r}: {exc}"
    try:
        async with asyncio.timeout(settings.startup_timeout_seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{name}: cannot reach database {redact(settings.database_url)}: {first_line(exc)}"
    finally:
        await engine.dispose()
    try:
        async with asyncio.timeout(settings.startup_timeout_seconds):
            await ensure_topics(settings.kafka_bootstrap_servers)
    except Exception as exc:
        return f"{name}: cannot reach Kafka at {settings.kafka_bootstrap_servers}: {first_line(exc)}"
    return None


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("faststream").setLevel(logging.WARNING)


def serve(settings: ServiceSettings, build_app: Callable[[ServiceSettings], FastAPI], *, check: bool = True) -> None:
    configure_logging(settings.log_level)
    if check:
        error = asyncio.run(preflight(settings))
        if error:
            print(error, file=sys.stderr)
            raise SystemExit(1)
    app = build_app(settings)
    # Python's cycle collector runs after every 700 allocations by default; a booking rush
    # allocates millions of short-lived objects (rows, events, requests) that reference counting
    # frees anyway, so most of those runs find nothing and cost CPU (about a tenth of the
    # throughput in make bench). The objects built at start-up are moved out of its way for good.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
        # longer than the gateway keeps idle upstream connections, so it never reuses a closed one
        timeout_keep_alive=75,
    )


def main(settings: ServiceSettings, build_app: Callable[[ServiceSettings], FastAPI], migrations: Path) -> None:
    """A service's command line: ``python -m <service>`` serves it, ``… migrate`` only migrates."""
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate(settings.database_url, migrations))
        return
    serve(settings, build_app)
