"""Sending to a service over pooled connections: which pool a call uses, and the one retry after
a service closed an idle connection just as a request went out on it. Against a small raw HTTP
server on loopback, which can close a connection exactly where a test needs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from starlette.requests import Request

from gateway import proxy
from gateway.settings import Settings


class Upstream:
    """Answers the first ``answered`` requests on each connection and closes the connection,
    without a word, on the one after (a keep-alive timeout racing with a request). With
    ``broken_body`` it sends the head of its answer and then closes."""

    def __init__(self, answered: int = 1, broken_body: bool = False) -> None:
        self.answered = answered
        self.broken_body = broken_body
        self.received: list[tuple[str, int]] = []  # (request line, its number on its connection)
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Upstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for number in range(1_000):
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next((int(v) for k, _, v in (line.partition(":") for line in lines) if k.lower() == "content-length"), 0)
                await reader.readexactly(length)
                self.received.append((lines[0], number))
                if number >= self.answered:
                    break
                if self.broken_body:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
                    await writer.drain()
                    break
                body = b'{"ok": true}'
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def settings(**overrides: object) -> Settings:
    return Settings(kafka_bootstrap_servers="127.0.0.1:1", **overrides)


@pytest.fixture
async def client() -> AsyncIterator[proxy.Upstream]:
    async with proxy.make_client(settings()) as c:
        yield c


async def send(client: proxy.Upstream, url: str, method: str = "GET", *, retry: bool) -> proxy.Answer:
    s = settings()
    return await proxy.send(client, method, url, content=None, headers={}, timeout=proxy.timeout(s), retry=retry)


async def test_request_is_sent_again_when_service_closed_its_pooled_connection(client):
    async with Upstream() as upstream:
        assert (await send(client, f"{upstream.url}/a", retry=True)).status_code == 200
        # the same pooled connection: the service closes it as the request arrives
        assert (await send(client, f"{upstream.url}/b", retry=True)).status_code == 200
    assert upstream.received == [("GET /a HTTP/1.1", 0), ("GET /b HTTP/1.1", 1), ("GET /b HTTP/1.1", 0)]


async def test_request_is_sent_once_when_retry_is_not_allowed(client):
    async with Upstream() as upstream:
        await send(client, f"{upstream.url}/a", retry=True)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await send(client, f"{upstream.url}/b", "POST", retry=False)
    assert [line for line, _ in upstream.received] == ["GET /a HTTP/1.1", "POST /b HTTP/1.1"]


async def test_request_is_sent_once_when_a_fresh_connection_fails(client):
    async with Upstream(answered=0) as upstream:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await send(client, f"{upstream.url}/a", retry=True)
    assert upstream.received == [("GET /a HTTP/1.1", 0)]


async def test_request_is_sent_once_when_the_answer_had_begun(client):
    async with Upstream(answered=2, broken_body=True) as upstream:
        with pytest.raises(aiohttp.ClientPayloadError):
            await send(client, f"{upstream.url}/a", retry=True)
    assert upstream.received == [("GET /a HTTP/1.1", 0)]


async def test_retry_happens_only_once_when_the_second_attempt_fails_too(client):
    async with Upstream() as upstream:
        await send(client, f"{upstream.url}/a", retry=True)
        await send(client, f"{upstream.url}/b", retry=True)  # leaves a second pooled connection
        upstream.answered = 0  # from now on every request is dropped
        with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
            await send(client, f"{upstream.url}/c", retry=True)
    assert [line for line, _ in upstream.received].count("GET /c HTTP/1.1") == 2


def request(method: str, query: str = "", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]  # as a server hands them on
    return Request({"type": "http", "method": method, "path": "/api/v1/bookings/b", "query_string": query.encode(), "headers": raw})


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("POST", {}, False),
        ("DELETE", {}, False),
        ("POST", {"idempotency-key": "k-1"}, True),
        ("PATCH", {"Idempotency-Key": "k-2"}, True),
    ],
)
def test_retry_is_allowed_only_when_a_repeat_does_no_harm(method, headers, expected):
    assert proxy.may_retry(request(method, headers=headers)) is expected


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [("GET", "wait=30", True), ("GET", "wait=x", True), ("GET", "limit=5", False), ("POST", "wait=30", True), ("POST", "", False), ("PATCH", "wait=30", False)],
)
def test_long_poll_is_recognised_by_its_wait_parameter(method, query, expected):
    assert proxy.is_long_poll(request(method, query)) is expected


async def test_pools_are_sized_apart_and_idle_connections_dropped_before_the_service_does():
    s = settings()
    assert s.upstream_keepalive_seconds < 75  # the services' keep-alive (nyprod_kit.runtime)
    async with proxy.make_client(s) as ordinary, proxy.make_long_poll_client(s) as long_poll:
        assert ordinary.session.connector is not long_poll.session.connector
        for upstream, limit in ((ordinary, s.upstream_max_connections), (long_poll, s.long_poll_max_connections)):
            connector = upstream.session.connector
            assert isinstance(connector, aiohttp.TCPConnector)
            assert connector.limit == limit
            assert connector.limit_per_host == 0  # every service shares the limit
            assert connector._keepalive_timeout == s.upstream_keepalive_seconds  # noqa: SLF001
    assert s.long_poll_max_connections >= 1000
    assert s.upstream_max_connections > 200
