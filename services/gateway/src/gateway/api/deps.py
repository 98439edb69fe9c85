"""Who is asking: the bearer token (or ``?access_token=`` for the live stream, since a browser's
EventSource cannot send headers), checked against the users as they are now (give or take the
user cache's few seconds for changes made through another gateway replica).

The getters of app state are ``async def`` although they await nothing: FastAPI runs a plain
``def`` dependency in its thread pool, a thread hand-off on every request for no gain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from .. import handlers, security
from ..db.uow import GatewayUnitOfWork
from ..domain import may
from ..settings import Settings
from ..security import TokenClaims
from ..user_cache import UserCache


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_uow(request: Request) -> GatewayUnitOfWork:
    return request.app.state.uow_factory()


async def get_user_cache(request: Request) -> UserCache:
    return request.app.state.user_cache


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
    state = request.app.state
    try:
        claims = state.tokens.read(token)
    except security.InvalidToken:
        raise unauthorized("the token is invalid or has expired", invalid=True) from None
    current = await handlers.current_claims(state.uow_factory(), claims, state.user_cache)
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
CachedUsers = Annotated[UserCache, Depends(get_user_cache)]

__all__ = ["Admin", "AppSettings", "CachedUsers", "Uow", "User", "current_user", "stream_user"]
