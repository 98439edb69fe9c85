"""Who is asking: the bearer token (or ``?access_token=`` for the live stream, since a browser's
EventSource cannot send headers), checked against the users as they are now."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from .. import handlers, security
from ..db.uow import GatewayUnitOfWork
from ..domain import may
from ..settings import Settings
from ..security import TokenClaims


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_uow(request: Request) -> GatewayUnitOfWork:
    return request.app.state.uow_factory()


def unauthorized(detail: str, *, invalid: bool = False) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _authenticate(request: Request, token: str | None) -> TokenClaims:
    if token is None:
        raise unauthorized("not logged in")
    settings = get_settings(request)
    try:
        claims = security.read_token(token, secret_key=settings.secret_key)
    except security.InvalidToken:
        raise unauthorized("the token is invalid or has expired", invalid=True) from None
    current = await handlers.current_claims(get_uow(request), claims)
    if current is None:
        raise unauthorized("the token is no longer valid", invalid=True)
    return current


async def current_user(request: Request) -> TokenClaims:
    return await _authenticate(request, _bearer(request))


async def stream_user(request: Request) -> TokenClaims:
    return await _authenticate(request, _bearer(request) or request.query_params.get("access_token") or None)


async def admin(user: Annotated[TokenClaims, Depends(current_user)]) -> TokenClaims:
    if not may(user.role, "GET", admin_only=True):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only an admin may manage users")
    return user


User = Annotated[TokenClaims, Depends(current_user)]
Admin = Annotated[TokenClaims, Depends(admin)]
Uow = Annotated[GatewayUnitOfWork, Depends(get_uow)]
AppSettings = Annotated[Settings, Depends(get_settings)]

__all__ = ["Admin", "AppSettings", "Uow", "User", "current_user", "stream_user"]
