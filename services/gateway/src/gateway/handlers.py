"""One async function per command about users. Each owns its transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from nyprod_kit.errors import Conflict, NotFound

from . import domain, security
from .db.uow import GatewayUnitOfWork
from .domain import Role
from .settings import LOCAL_SECRET_KEY, Settings
from .user_cache import StoredUser, UserCache

UowFactory = Callable[[], GatewayUnitOfWork]


class StartupRefused(RuntimeError):
    """The configuration is not fit to serve: start-up stops with this one-line reason."""


async def login(uow: GatewayUnitOfWork, username: str, password: str) -> security.TokenClaims | None:
    user = None
    # a name no user can have is not looked up (PostgreSQL would refuse some characters)
    if re.fullmatch(domain.USERNAME_PATTERN, username):
        async with uow:
            user = await uow.users.get(username)
    if not await security.verify_password(password, user["password_hash"] if user else None):
        return None
    assert user is not None
    return security.TokenClaims(username=user["username"], role=Role(user["role"]), version=user["token_version"])


async def current_claims(
    uow: GatewayUnitOfWork, claims: security.TokenClaims, cache: UserCache | None = None
) -> security.TokenClaims | None:
    """The token's user as stored now (or, with a cache, as stored at most its ttl ago), or
    None when the user is gone or the token outdated."""
    if not re.fullmatch(domain.USERNAME_PATTERN, claims.username):
        return None

    async def load() -> StoredUser | None:
        async with uow:
            user = await uow.users.get(claims.username)
        return StoredUser(role=user["role"], token_version=user["token_version"]) if user else None

    stored = await cache.get(claims.username, load) if cache is not None else await load()
    if stored is None or stored.token_version != claims.version:
        return None
    return security.TokenClaims(username=claims.username, role=Role(stored.role), version=stored.token_version)


async def create_user(
    uow: GatewayUnitOfWork, username: str, password: str, role: Role, cache: UserCache | None = None
) -> dict[str, Any]:
    password_hash = await security.hash_password(password)
    async with uow:
        if await uow.users.get(username) is not None:
            raise Conflict(f"user {username!r} exists already", "username_taken")
        row = await uow.users.add(username, password_hash, role)
        try:
            await uow.commit()
        except IntegrityError:
            raise Conflict(f"user {username!r} exists already", "username_taken") from None
        finally:
            _forget(cache, username)  # a cached "no such user"
        return row


async def change_user(
    uow: GatewayUnitOfWork, username: str, *, password: str | None, role: Role | None, cache: UserCache | None = None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if password is not None:
        changes["password_hash"] = await security.hash_password(password)
    async with uow:
        user = await uow.users.get(username)
        if user is None:
            raise NotFound("user", username)
        if role is not None and role.value != user["role"]:
            if user["role"] == Role.ADMIN.value and await uow.users.admin_count(lock=True) <= 1:
                raise Conflict("the last admin cannot lose the admin role", "last_admin")
            changes["role"] = role.value
        if changes:
            await uow.users.change(username, changes)
            try:
                await uow.commit()
            finally:
                _forget(cache, username)
        row = await uow.users.get(username) if changes else user
        assert row is not None
        return row


async def delete_user(uow: GatewayUnitOfWork, username: str, cache: UserCache | None = None) -> None:
    async with uow:
        user = await uow.users.get(username)
        if user is None:
            raise NotFound("user", username)
        if user["role"] == Role.ADMIN.value and await uow.users.admin_count(lock=True) <= 1:
            raise Conflict("the last admin cannot be deleted", "last_admin")
        await uow.users.delete(username)
        try:
            await uow.commit()
        finally:
            _forget(cache, username)


def _forget(cache: UserCache | None, username: str) -> None:
    # after the commit: a look-up racing with it may have read the old row, and must not keep it
    if cache is not None:
        cache.forget(username)


def configuration_problem(settings: Settings) -> str | None:
    return domain.secret_problem(local_mode=settings.local_mode, secret_key=settings.secret_key, local_secret=LOCAL_SECRET_KEY)


async def create_initial_users(uow: GatewayUnitOfWork, settings: Settings) -> None:
    """Local mode: the demo users. Otherwise the first admin, from GATEWAY_ADMIN_PASSWORD.
    Raises StartupRefused when no admin exists and none may be created."""
    async with uow:
        existing = await uow.users.usernames()
        seeds, problem = domain.decide_initial_users(
            local_mode=settings.local_mode,
            existing=existing,
            admin_exists=await uow.users.admin_count() > 0,
            admin_username=settings.admin_username.strip().lower(),
            admin_password=settings.admin_password,
        )
    if problem:
        raise StartupRefused(problem)
    for seed in seeds:
        try:
            await create_user(uow, seed.username, seed.password, seed.role)
        except Conflict:
            pass  # another replica starting at the same time created it
