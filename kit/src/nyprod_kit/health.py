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
        checks = {"database": await database_ok(state.engine), "kafka": await kafka_ok(state.broker)}
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": {k: "ok" if v else "down" for k, v in checks.items()}},
            status_code=200 if ready else 503,
        )

    return router


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
