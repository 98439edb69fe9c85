"""``/healthz`` (process up) and ``/readyz`` (database and Kafka reachable)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        database, kafka = await asyncio.gather(database_ok(state.engine), kafka_ok(state.broker))
        return readiness({"database": database, "kafka": kafka})

    return router


def readiness(checks: dict[str, bool]) -> JSONResponse:
    """The ``/readyz`` answer: 200 when every check passed, else 503 naming what is down."""
    down = [name for name, ok in checks.items() if not ok]
    body: dict[str, object] = {
        "status": "not ready" if down else "ready",
        "checks": {name: "ok" if ok else "down" for name, ok in checks.items()},
    }
    if down:
        body["detail"] = f"down: {', '.join(down)}"
    return JSONResponse(body, status_code=503 if down else 200)


async def database_ok(engine) -> bool:  # noqa: ANN001
    try:
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def kafka_ok(broker) -> bool:  # noqa: ANN001
    try:
        return bool(await broker.ping(timeout=2))
    except Exception:
        return False
