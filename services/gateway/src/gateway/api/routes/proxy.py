"""Every other /api/v1 call goes, unchanged, to the service that owns its path."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from ... import proxy
from ...domain import may, owning_service
from ..deps import current_user

router = APIRouter()


@router.api_route(
    "/api/v1/{path:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def forward(request: Request, path: str) -> Response:
    service = owning_service(request.method, request.url.path)
    if service is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
    user = await current_user(request)
    if not may(user.role, request.method):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"the {user.role.value} role may only read")
    state = request.app.state
    return await proxy.forward(
        state.long_poll_http if proxy.is_long_poll(request) else state.http,
        request,
        service=service,
        base_url=state.settings.service_urls()[service],
        user=user,
        body=await request.body(),
        settings=state.settings,
    )
