"""Forwarding an API call to the service that owns it, unchanged but for who is asking."""

from __future__ import annotations

import itertools
import logging
import math
from typing import Any

import httpx
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from .security import TokenClaims
from .settings import Settings

log = logging.getLogger(__name__)

# what a client may tell a service; everything else (cookies, a forged X-Nyprod-User …) stays here
_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id")
_RESPONSE_HEADERS = ("content-type", "location", "retry-after", "etag", "cache-control")


class Upstream:
    """Connections to the services: several small httpx pools used in turn.

    httpcore's pool walks all of its connections on every request and every answer (an expiry
    check with a readability syscall per idle one), so one pool holding the hundreds of
    connections of a booking rush spends more CPU on that walk than on the requests. Shards of a
    few dozen connections each keep the walk short; the total limits stay the same.
    """

    def __init__(self, settings: Settings, max_connections: int, max_keepalive: int, shards: int) -> None:
        shards = max(1, min(shards, max_connections))
        self.clients = [
            _client(settings, math.ceil(max_connections / shards), math.ceil(max_keepalive / shards)) for _ in range(shards)
        ]
        self._turn = itertools.cycle(self.clients)

    def next(self) -> httpx.AsyncClient:
        return next(self._turn)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.next().request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.next().get(url, **kwargs)

    async def __aenter__(self) -> Upstream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.aclose()


def make_client(settings: Settings) -> Upstream:
    """The pooled connections for ordinary calls to every service. trust_env=False: an HTTP
    proxy configured for the machine must not sit between the gateway and its services."""
    return Upstream(settings, settings.upstream_max_connections, settings.upstream_max_keepalive_connections, settings.upstream_pool_shards)


def make_long_poll_client(settings: Settings) -> Upstream:
    """The connections for long-polls only (see ``is_long_poll``)."""
    return Upstream(
        settings, settings.long_poll_max_connections, settings.long_poll_max_keepalive_connections, settings.long_poll_pool_shards
    )


def _client(settings: Settings, max_connections: int, max_keepalive: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout(settings),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=settings.upstream_keepalive_seconds,
        ),
        trust_env=False,
        follow_redirects=False,
    )


def is_long_poll(request: Request) -> bool:
    """``GET /bookings/{id}?wait=S`` and ``POST /bookings?wait=S`` may hold their connection
    for S seconds."""
    return request.method in ("GET", "POST") and "wait" in request.query_params


def timeout(settings: Settings, read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=read or settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=settings.connect_timeout_seconds,
    )


def read_timeout_for(request: Request, settings: Settings) -> float:
    """A booking asked for (or requested) with ?wait=S is allowed to take S seconds (at most the service's
    maximum) plus the usual margin."""
    if is_long_poll(request):
        try:
            wait = float(request.query_params["wait"])
        except ValueError:
            return settings.read_timeout_seconds
        if math.isfinite(wait) and wait > 0:
            return min(wait, settings.max_wait_seconds) + 5.0
    return settings.read_timeout_seconds


def unavailable(service: str) -> JSONResponse:
    return JSONResponse({"detail": f"the {service} service is unavailable"}, status_code=503)


def may_retry(request: Request) -> bool:
    """Whether sending the request twice does no harm."""
    return request.method in ("GET", "HEAD") or "idempotency-key" in request.headers


async def send(
    upstream: Upstream,
    method: str,
    url: str,
    *,
    content: bytes | None,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    retry: bool,
) -> httpx.Response:
    """One request to a service. With ``retry``, a request that fails on a connection taken
    from the pool before any answer arrived is sent once more at once: the service may have
    closed that idle connection just as the request went out, which says nothing about the
    service. A failure on a fresh connection, a timeout or a broken answer is final."""
    client = upstream.next()
    seen = _Trace()
    try:
        return await client.request(method, url, content=content, headers=headers, timeout=timeout, extensions={"trace": seen})
    except (httpx.RemoteProtocolError, httpx.ReadError):
        if not retry or seen.new_connection or seen.answer_started:
            raise
    log.info("%s %s again: the service closed a pooled connection before answering", method, url)
    return await client.request(method, url, content=content, headers=headers, timeout=timeout)


class _Trace:
    """What httpcore reports of one request: whether it opened a new connection, and whether
    the answer's head arrived."""

    __slots__ = ("answer_started", "new_connection")

    def __init__(self) -> None:
        self.new_connection = False
        self.answer_started = False

    async def __call__(self, event: str, info: dict[str, object]) -> None:
        if event == "connection.connect_tcp.started":
            self.new_connection = True
        elif event == "http11.receive_response_headers.complete":
            self.answer_started = True


async def forward(
    client: Upstream,
    request: Request,
    *,
    service: str,
    base_url: str,
    user: TokenClaims,
    body: bytes,
    settings: Settings,
) -> Response:
    headers = {k: v for k in _REQUEST_HEADERS if (v := request.headers.get(k)) is not None}
    headers["x-nyprod-user"] = user.username
    headers["x-nyprod-role"] = user.role.value
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    # the path as the client sent it (still percent-encoded), not as Starlette decoded it
    raw_path = request.scope.get("raw_path")
    url = base_url + (raw_path.decode("latin-1") if raw_path else request.url.path)
    query = request.url.query
    if query:
        url += "?" + query
    try:
        upstream = await send(
            client,
            request.method,
            url,
            content=body or None,
            headers=headers,
            timeout=timeout(settings, read_timeout_for(request, settings)),
            retry=may_retry(request),
        )
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        log.warning("%s service unavailable for %s %s: %s", service, request.method, request.url.path, type(exc).__name__)
        return unavailable(service)
    out = Response(content=upstream.content, status_code=upstream.status_code)
    for name in _RESPONSE_HEADERS:
        value = upstream.headers.get(name)
        if value is None:
            continue
        if name == "location" and value.startswith(base_url):
            value = value[len(base_url) :] or "/"  # the service's own address stays private
        out.headers[name] = value
    return out
