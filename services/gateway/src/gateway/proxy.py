"""Forwarding an API call to the service that owns it, unchanged but for who is asking."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from multidict import CIMultiDictProxy
from yarl import URL

from .security import TokenClaims
from .settings import Settings

log = logging.getLogger(__name__)

# what a client may tell a service; everything else (cookies, a forged X-Nyprod-User …) stays here
_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id")
_RESPONSE_HEADERS = ("content-type", "location", "retry-after", "etag", "cache-control")

# what a call to a service may end in besides an answer: no connection, a dropped one, a
# timeout, a broken answer
UpstreamError = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Answer:
    """A service's whole answer."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Upstream:
    """Pooled connections to the services (aiohttp: its C HTTP parser costs a fraction of the
    CPU per call of a pure-Python client, and the gateway makes one call per request)."""

    def __init__(self, settings: Settings, max_connections: int) -> None:
        self._settings = settings
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use the Upstream in an async with block"
        return self._session

    async def __aenter__(self) -> Upstream:
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_start.append(_new_connection)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, keepalive_timeout=self._settings.upstream_keepalive_seconds
            ),
            timeout=timeout(self._settings),
            trace_configs=[trace],
        )
        # the one retry is ours (``send``): aiohttp's own would also resend a call that failed
        # on a fresh connection, and PUT or DELETE without an Idempotency-Key
        self._session._retry_connection = False  # noqa: SLF001
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | float | None = None,
        trace: _Trace | None = None,
    ) -> Answer:
        if isinstance(timeout, int | float):
            timeout = aiohttp.ClientTimeout(total=timeout)
        options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
        # the URL as given, still percent-encoded (yarl would otherwise normalise it)
        async with self.session.request(
            method, URL(url, encoded=True), data=content, headers=headers, trace_request_ctx=trace, **options
        ) as response:
            if trace is not None:
                trace.answer_started = True
            return Answer(response.status, response.headers, await response.read())

    async def get(self, url: str, **kwargs: Any) -> Answer:
        return await self.request("GET", url, **kwargs)


def make_client(settings: Settings) -> Upstream:
    """The pooled connections for ordinary calls to every service."""
    return Upstream(settings, settings.upstream_max_connections)


def make_long_poll_client(settings: Settings) -> Upstream:
    """The connections for long-polls only (see ``is_long_poll``)."""
    return Upstream(settings, settings.long_poll_max_connections)


def is_long_poll(request: Request) -> bool:
    """``GET /bookings/{id}?wait=S`` and ``POST /bookings?wait=S`` may hold their connection
    for S seconds."""
    return request.method in ("GET", "POST") and "wait" in request.query_params


def timeout(settings: Settings, read: float | None = None) -> aiohttp.ClientTimeout:
    """``connect`` covers the wait for a free pooled connection and opening one; ``sock_read``
    is the longest silence while the answer is awaited or read."""
    return aiohttp.ClientTimeout(
        total=None,
        connect=settings.connect_timeout_seconds,
        sock_connect=settings.connect_timeout_seconds,
        sock_read=read or settings.read_timeout_seconds,
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
    timeout: aiohttp.ClientTimeout,
    retry: bool,
) -> Answer:
    """One request to a service. With ``retry``, a request that fails on a connection taken
    from the pool before any answer arrived is sent once more at once: the service may have
    closed that idle connection just as the request went out, which says nothing about the
    service. A failure on a fresh connection, a timeout or a broken answer is final."""
    seen = _Trace()
    try:
        return await upstream.request(method, url, content=content, headers=headers, timeout=timeout, trace=seen)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        if not retry or seen.new_connection or seen.answer_started:
            raise
    log.info("%s %s again: the service closed a pooled connection before answering", method, url)
    return await upstream.request(method, url, content=content, headers=headers, timeout=timeout)


class _Trace:
    """What happened to one request: whether it opened a new connection, and whether the
    answer's head arrived."""

    __slots__ = ("answer_started", "new_connection")

    def __init__(self) -> None:
        self.new_connection = False
        self.answer_started = False


async def _new_connection(_session: aiohttp.ClientSession, context: Any, _params: Any) -> None:
    if isinstance(context.trace_request_ctx, _Trace):
        context.trace_request_ctx.new_connection = True


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
    except UpstreamError as exc:
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
