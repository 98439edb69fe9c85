"""Forwarding an API call to the service that owns it, unchanged but for who is asking."""

from __future__ import annotations

import logging
import math

import httpx
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from .security import TokenClaims
from .settings import Settings

log = logging.getLogger(__name__)

# what a client may tell a service; everything else (cookies, a forged X-Nyprod-User …) stays here
_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id")
_RESPONSE_HEADERS = ("content-type", "location", "retry-after", "etag", "cache-control")


def make_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client for every service. trust_env=False: an HTTP proxy configured for the
    machine must not sit between the gateway and its services."""
    return httpx.AsyncClient(
        timeout=timeout(settings),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30),
        trust_env=False,
        follow_redirects=False,
    )


def timeout(settings: Settings, read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=read or settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=settings.connect_timeout_seconds,
    )


def read_timeout_for(request: Request, settings: Settings) -> float:
    """A booking asked for with ?wait=S is allowed to take S seconds (at most the service's
    maximum) plus the usual margin."""
    if request.method == "GET" and "wait" in request.query_params:
        try:
            wait = float(request.query_params["wait"])
        except ValueError:
            return settings.read_timeout_seconds
        if math.isfinite(wait) and wait > 0:
            return min(wait, settings.max_wait_seconds) + 5.0
    return settings.read_timeout_seconds


def unavailable(service: str) -> JSONResponse:
    return JSONResponse({"detail": f"the {service} service is unavailable"}, status_code=503)


async def forward(
    client: httpx.AsyncClient,
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
        upstream = await client.request(
            request.method,
            url,
            content=body or None,
            headers=headers,
            timeout=timeout(settings, read_timeout_for(request, settings)),
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
