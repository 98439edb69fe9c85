"""Password hashes (Argon2) and signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from .domain import Role

ALGORITHM = "HS256"
ISSUER = "nyprod-gateway"

_hasher = PasswordHash((Argon2Hasher(),))
# verified against when the user does not exist, so a wrong name costs as much as a wrong password
_DUMMY_HASH = _hasher.hash("no such user")


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    return await asyncio.to_thread(_hasher.verify, password, password_hash or _DUMMY_HASH) and password_hash is not None


@dataclass(frozen=True)
class TokenClaims:
    username: str
    role: Role
    # a user's tokens stop working when this changes (new password, new role, deleted)
    version: int


class InvalidToken(Exception):
    pass


def issue_token(claims: TokenClaims, *, secret_key: str, ttl_seconds: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    payload = {
        "sub": claims.username,
        "role": claims.role.value,
        "ver": claims.version,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(payload, secret_key, algorithm=ALGORITHM)


def read_token(token: str, *, secret_key: str) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        return TokenClaims(username=str(payload["sub"]), role=Role(payload["role"]), version=int(payload["ver"]))
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None
