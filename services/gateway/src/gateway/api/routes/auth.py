"""Logging in: a user name and password for a signed, expiring token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ... import handlers, security
from ..deps import AppSettings, Uow, User, unauthorized
from ..schemas import MeOut, TokenOut, TokenRequest

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, responses={401: {"description": "wrong username or password"}})
async def issue_token(body: TokenRequest, uow: Uow, settings: AppSettings) -> Any:
    claims = await handlers.login(uow, body.username, body.password)
    if claims is None:
        raise unauthorized("wrong username or password")
    token = security.issue_token(claims, secret_key=settings.secret_key, ttl_seconds=settings.token_ttl_seconds)
    return TokenOut(access_token=token, role=claims.role, username=claims.username, expires_in=settings.token_ttl_seconds)


@router.get("/me", response_model=MeOut)
async def me(user: User) -> Any:
    return MeOut(username=user.username, role=user.role)
