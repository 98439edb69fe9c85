"""GET /api/v1/stream: the live updates as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from ...security import TokenClaims
from ...stream import event_stream
from ..deps import stream_user

router = APIRouter(tags=["stream"])

_DESCRIPTION = """Server-Sent Events, as they happen:
`unit.status` {unit_id, status, previous_status, unit_name} · `unit.changed` {unit_id} ·
`booking.status` {booking_id, unit_id, status, reason} · `buyers.changed` {unit_id}.
A comment line arrives every 15 s. A client that falls too far behind is disconnected and
should reconnect and reload what it shows."""


@router.get(
    "/api/v1/stream",
    response_class=StreamingResponse,
    description=_DESCRIPTION,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the event stream"}},
)
async def stream(
    request: Request,
    _: Annotated[TokenClaims, Depends(stream_user)],
    access_token: Annotated[
        str | None, Query(description="the token, for clients that cannot send an Authorization header (EventSource)")
    ] = None,
) -> StreamingResponse:
    hub = request.app.state.hub
    subscription = hub.subscribe()
    return StreamingResponse(
        event_stream(hub, subscription, request.app.state.settings.stream_heartbeat_seconds),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
