"""Fixtures for the gateway's tests: real Kafka, a real units service on a real port, and the
gateway itself served by uvicorn (Server-Sent Events and timeouts need a real server)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.main import build_app
from gateway.settings import Settings
from nyprod_kit.testing import kafka_bootstrap, sqlite_url, wait_until

SECRET = "gateway-tests-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """Runs ``app`` (lifespan included) under uvicorn on a free loopback port; yields its URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: _started_or_ended(server, task), timeout=60, message="the app to start")
        if not server.started:
            raise RuntimeError("the app did not start (see the log above)")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()


async def _started_or_ended(server: uvicorn.Server, task: asyncio.Task) -> bool:
    return server.started or task.done()


def gateway_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka_bootstrap(),
        "local_mode": True,
        "secret_key": SECRET,
        "units_url": f"http://127.0.0.1:{free_port()}",
        "prospects_url": f"http://127.0.0.1:{free_port()}",
        "buyers_url": f"http://127.0.0.1:{free_port()}",
        "openapi_retry_seconds": 0.5,
        "startup_timeout_seconds": 30,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
async def units_url(tmp_path_factory) -> AsyncIterator[str]:
    """The real units service with its own fresh database, served on a free port.

    Its Kafka consumers are left out: these tests need only its HTTP side, and its fixed
    consumer group would otherwise take partitions from units services that other tests run."""
    import units.messaging.consumers
    from units.main import build_app as build_units_app
    from units.settings import Settings as UnitsSettings

    tmp = tmp_path_factory.mktemp("units")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(units.messaging.consumers, "register", lambda *args, **kwargs: None)
        app = build_units_app(UnitsSettings(database_url=sqlite_url(tmp, "units"), kafka_bootstrap_servers=kafka_bootstrap()))
    async with served(app) as url:
        yield url


@pytest.fixture(scope="module")
def make_settings(tmp_path_factory) -> Callable[..., Settings]:
    """Gateway settings for tests: local mode, services on closed ports unless given, and a new
    SQLite users database per call unless ``database_url`` is given."""
    counter = iter(range(1_000_000))
    tmp = tmp_path_factory.mktemp("gateway")

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("database_url", sqlite_url(tmp, f"gateway{next(counter)}"))
        return gateway_settings(**overrides)

    return make


@pytest.fixture(scope="session")
def serve() -> Callable[[FastAPI], Any]:
    return served


@pytest.fixture(scope="session")
def build() -> Callable[[Settings], FastAPI]:
    return build_app


@pytest.fixture(scope="session")
def login() -> Callable[..., Any]:
    async def token_headers(client: httpx.AsyncClient, username: str, password: str | None = None) -> dict[str, str]:
        response = await client.post("/api/v1/auth/token", json={"username": username, "password": password or username})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return token_headers


@pytest.fixture(scope="session")
def closed_port_url() -> str:
    """An address where nothing listens: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"
