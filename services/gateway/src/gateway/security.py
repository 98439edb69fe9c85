"""Password hashes (Argon2) and signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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
    return _decode(token, secret_key)[0]


def _decode(token: str, secret_key: str) -> tuple[TokenClaims, int]:
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        claims = TokenClaims(username=str(payload["sub"]), role=Role(payload["role"]), version=int(payload["ver"]))
        return claims, int(payload["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


class TokenReader:
    """``read_token`` that remembers the tokens it has accepted until they expire: once the user
    is cached, checking the signature and parsing the payload are most of what authenticating a
    call costs, and a client sends the same token with every call. Keyed by the whole token, signature included,
    so only a token byte for byte identical to an accepted one is taken on trust."""

    def __init__(self, secret_key: str, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._secret_key = secret_key
        self._max_entries = max_entries
        self._clock = clock
        self._accepted: dict[str, tuple[TokenClaims, int]] = {}

    def read(self, token: str) -> TokenClaims:
        hit = self._accepted.get(token)
        if hit is not None:
            if self._clock() < hit[1]:
                return hit[0]
            del self._accepted[token]
        claims, expires = _decode(token, self._secret_key)
        if len(self._accepted) >= self._max_entries:
            self._accepted.clear()
        self._accepted[token] = (claims, expires)
        return claims
