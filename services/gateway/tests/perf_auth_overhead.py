"""The gateway's own cost of an authenticated call: N × ``GET /api/v1/auth/me``, in process
(httpx ASGITransport, no network, no uvicorn), printed as microseconds per request and the
number of SQL statements they caused, next to N × ``GET /healthz`` (no authentication) as the
floor. Not a test: a figure to compare before and after a change.

    .venv/bin/python services/gateway/tests/perf_auth_overhead.py [--requests 2000]
        [--concurrency 1] [--database sqlite|postgres]

``--database postgres`` uses a fresh database on the test server (NYPROD_TEST_POSTGRES_URL,
default 127.0.0.1:5433) and drops it afterwards. Kafka is not needed: the app is driven without
its lifespan, and the users table is migrated and seeded here.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event

from gateway import handlers
from gateway.db.models import MIGRATIONS
from gateway.main import build_app
from gateway.settings import Settings
from nyprod_kit.migrations import upgrade_to_head
from nyprod_kit.testing import create_postgres_database, drop_postgres_database, sqlite_url


async def measure(database_url: str, requests: int, concurrency: int, rounds: int) -> None:
    # an address where no broker listens: the broker object is built but never started
    settings = Settings(database_url=database_url, local_mode=True, kafka_bootstrap_servers="127.0.0.1:1")
    app = build_app(settings)
    engine = app.state.engine
    await upgrade_to_head(engine, MIGRATIONS)
    await handlers.create_initial_users(app.state.uow_factory(), settings)

    lookups = 0

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        nonlocal lookups
        lookups += 1

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        login = await client.post("/api/v1/auth/token", json={"username": "agent", "password": "agent"})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

        async def timed(path: str, auth: dict[str, str]) -> float:
            """Median microseconds per request over the rounds."""
            nonlocal lookups

            async def one() -> None:
                response = await client.get(path, headers=auth)
                assert response.status_code == 200, response.text

            for _ in range(50):  # warm up imports, pools and caches
                await one()
            sem = asyncio.Semaphore(concurrency)

            async def bounded() -> None:
                async with sem:
                    await one()

            per_request: list[float] = []
            for _ in range(rounds):
                lookups = 0
                started = time.perf_counter()
                await asyncio.gather(*(bounded() for _ in range(requests)))
                elapsed = time.perf_counter() - started
                per_request.append(elapsed / requests * 1e6)
                print(f"  GET {path}: {requests} in {elapsed:.3f} s, {per_request[-1]:.0f} µs/request, {lookups} SQL statements")
            return statistics.median(per_request)

        floor = await timed("/healthz", {})
        me = await timed("/api/v1/auth/me", headers)
    await engine.dispose()
    print(f"median GET /healthz (no auth, the in-process floor): {floor:.0f} µs/request")
    print(f"median GET /api/v1/auth/me: {me:.0f} µs/request ({1e6 / me:.0f} requests/s), {me - floor:.0f} µs above the floor")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(f"GET /api/v1/auth/me ×{args.requests}, concurrency {args.concurrency}, {args.database}")
    if args.database == "postgres":
        url = await create_postgres_database("gwperf")
        try:
            await measure(url, args.requests, args.concurrency, args.rounds)
        finally:
            await drop_postgres_database(url)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            await measure(sqlite_url(Path(tmp), "gateway"), args.requests, args.concurrency, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
