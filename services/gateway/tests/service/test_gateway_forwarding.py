"""What exactly reaches a service and comes back: checked against a small echo service (a real
HTTP server) standing in for prospects and buyers, whose answers show what they received."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/api/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def echo(request: Request, path: str) -> Response:
        if request.method == "DELETE":
            return Response(status_code=204)
        if "sleep" in request.query_params:
            await asyncio.sleep(float(request.query_params["sleep"]))
        return JSONResponse(
            {
                "method": request.method,
                "path": request.scope["raw_path"].decode(),
                "query": request.url.query,
                "headers": dict(request.headers),
                "body": (await request.body()).decode(),
            },
            status_code=202,
            headers={"location": f"{str(request.base_url).rstrip('/')}/api/v1/bookings/b-1", "set-cookie": "secret=1"},
        )

    return app


@pytest.fixture(scope="module")
async def gateway(make_settings, serve, build):
    async with serve(echo_app()) as echo_url:
        settings = make_settings(prospects_url=echo_url, buyers_url=echo_url, read_timeout_seconds=1.0)
        async with serve(build(settings)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                yield client


async def test_request_arrives_unchanged_with_the_user_when_forwarded(gateway, login):
    agent = await login(gateway, "agent")
    body = b'{"prospect_id": "p-1", "unit_id": "u-1", "note": "\xc3\xa5\xc3\xa4\xc3\xb6"}'
    response = await gateway.post(
        "/api/v1/bookings?x=1&y=%C3%A5+b",
        content=body,
        headers={
            **agent,
            "content-type": "application/json",
            "idempotency-key": "key-123",
            "x-nyprod-user": "forged",
            "x-nyprod-role": "admin",
            "cookie": "session=abc",
        },
    )
    assert response.status_code == 202
    seen = response.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/api/v1/bookings", "x=1&y=%C3%A5+b")
    assert seen["body"] == body.decode()
    assert seen["headers"]["x-nyprod-user"] == "agent"
    assert seen["headers"]["x-nyprod-role"] == "agent"
    assert seen["headers"]["idempotency-key"] == "key-123"
    assert seen["headers"]["content-type"] == "application/json"
    assert "authorization" not in seen["headers"] and "cookie" not in seen["headers"]
    # the service's own address stays private; its cookies stay with it
    assert response.headers["location"] == "/api/v1/bookings/b-1"
    assert "set-cookie" not in response.headers


async def test_path_is_kept_encoded_when_forwarded(gateway, login):
    response = await gateway.get("/api/v1/buyers/a%2Fb%20c", headers=await login(gateway, "viewer"))
    assert response.json()["path"] == "/api/v1/buyers/a%2Fb%20c"


async def test_empty_answer_passes_through_when_service_sends_204(gateway, login):
    response = await gateway.delete("/api/v1/prospects/p-1", headers=await login(gateway, "agent"))
    assert response.status_code == 204
    assert response.content == b""


async def test_booking_wait_may_take_longer_when_asked_to_wait(gateway, login):
    agent = await login(gateway, "agent")
    # the normal read timeout (1 s here) ends a slow answer ...
    started = time.monotonic()
    slow = await gateway.get("/api/v1/bookings/b-1", params={"sleep": 3}, headers=agent)
    assert slow.status_code == 503
    assert time.monotonic() - started < 2.5
    # ... but ?wait=S gives the service S seconds (plus a margin) to answer
    waited = await gateway.get("/api/v1/bookings/b-1", params={"wait": 2, "sleep": 2}, headers=agent)
    assert waited.status_code == 202
    assert waited.json()["query"] == "wait=2&sleep=2"
