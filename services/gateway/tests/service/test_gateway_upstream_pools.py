"""The gateway's connections to the services under a rush: long-polls do not take the
connections ordinary calls need, and a pooled connection the service closed under a request
costs an idempotent call nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def slow_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/api/v1/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    async def answer(request: Request, path: str) -> JSONResponse:
        if "wait" in request.query_params:
            await asyncio.sleep(float(request.query_params["wait"]))
        return JSONResponse({"method": request.method, "path": path}, status_code=202 if request.method == "POST" else 200)

    return app


@pytest.fixture(scope="module")
async def gateway(make_settings, serve, build):
    async with serve(slow_app()) as service_url:
        # few connections for ordinary calls, so long-polls sharing them would starve them at once
        settings = make_settings(prospects_url=service_url, upstream_max_connections=2, connect_timeout_seconds=1.0)
        async with serve(build(settings)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=100)) as client:
                yield client


async def test_ordinary_calls_answer_at_once_when_long_polls_are_waiting(gateway, login):
    agent = await login(gateway, "agent")
    polls = [asyncio.create_task(gateway.get(f"/api/v1/bookings/b-{n}", params={"wait": 3}, headers=agent)) for n in range(20)]
    await asyncio.sleep(0.5)  # every long-poll now holds a connection to the service
    calls = await asyncio.gather(
        gateway.post("/api/v1/bookings", json={"unit_id": "u-1"}, headers=agent),
        *(gateway.get("/api/v1/bookings", headers=agent) for _ in range(5)),
    )
    # had they waited for a connection held by a long-poll, they would have been 503 after 1 s
    assert [c.status_code for c in calls] == [202, 200, 200, 200, 200, 200]
    assert not any(p.done() for p in polls)
    assert {p.status_code for p in await asyncio.gather(*polls)} == {200}


_DOC = b'{"openapi": "3.1.0", "info": {"title": "stand-in", "version": "1"}, "paths": {}}'


class ClosingService:
    """Answers the first request on each connection, then closes the connection as the next
    request arrives: what a keep-alive timeout racing with a request looks like."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for number in range(2):
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")), 0)
                await reader.readexactly(length)
                request_line = head.split("\r\n", 1)[0]
                if " /api/" not in request_line:  # the gateway fetching /openapi.json, once when it gets one
                    writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_DOC), _DOC))
                    break
                self.received.append(request_line)
                if number == 1:
                    break
                writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}')
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture(scope="module")
async def closing():
    service = ClosingService()
    server = await asyncio.start_server(service.serve, "127.0.0.1", 0)
    service.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield service
    server.close()


@pytest.fixture(scope="module")
async def closing_gateway(closing, make_settings, serve, build):
    settings = make_settings(buyers_url=closing.url, prospects_url=closing.url)
    async with serve(build(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def test_read_is_sent_again_when_service_closed_the_pooled_connection(closing_gateway, closing, login):
    viewer = await login(closing_gateway, "viewer")
    assert (await closing_gateway.get("/api/v1/buyers", headers=viewer)).status_code == 200
    closing.received.clear()
    assert (await closing_gateway.get("/api/v1/buyers", headers=viewer)).status_code == 200
    assert closing.received == ["GET /api/v1/buyers HTTP/1.1"] * 2


async def test_post_is_sent_once_when_service_closed_the_pooled_connection(closing_gateway, closing, login):
    agent = await login(closing_gateway, "agent")
    await closing_gateway.get("/api/v1/buyers", headers=agent)  # leaves a pooled connection
    closing.received.clear()
    refused = await closing_gateway.post("/api/v1/bookings", json={}, headers=agent)
    assert refused.status_code == 503
    assert refused.json() == {"detail": "the prospects service is unavailable"}
    assert closing.received == ["POST /api/v1/bookings HTTP/1.1"]


async def test_post_is_sent_again_when_it_carries_an_idempotency_key(closing_gateway, closing, login):
    agent = await login(closing_gateway, "agent")
    await closing_gateway.get("/api/v1/buyers", headers=agent)
    closing.received.clear()
    booked = await closing_gateway.post("/api/v1/bookings", json={}, headers={**agent, "idempotency-key": "k-1"})
    assert booked.status_code == 200
    assert closing.received == ["POST /api/v1/bookings HTTP/1.1"] * 2
