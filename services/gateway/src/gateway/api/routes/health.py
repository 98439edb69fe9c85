"""``/healthz`` (process up) and ``/readyz`` (Kafka, the users database and the three services)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from nyprod_kit.health import database_ok, kafka_ok, readiness

from ...proxy import Upstream, UpstreamError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    urls = state.settings.service_urls()
    names = ["kafka", "database", *urls]
    results = await asyncio.gather(
        kafka_ok(state.broker),
        database_ok(state.engine),
        *(_service_ready(state.http, url) for url in urls.values()),
    )
    return readiness(dict(zip(names, results, strict=True)))


async def _service_ready(client: Upstream, base_url: str) -> bool:
    try:
        response = await client.get(f"{base_url}/readyz", timeout=2.0)
        return response.status_code == 200
    except UpstreamError:
        return False
