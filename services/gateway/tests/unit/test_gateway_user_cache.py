"""The per-process memory of users and tokens that spares each call a database query and a
signature check: how long it trusts what it read, and when it must read again."""

from __future__ import annotations

import asyncio

import pytest

from gateway import security
from gateway.domain import Role
from gateway.security import InvalidToken, TokenClaims, TokenReader
from gateway.user_cache import StoredUser, UserCache

SECRET = "unit-test-secret-key-0123456789abcdef"


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Table:
    """A users table that counts its reads and can be made slow or failing."""

    def __init__(self) -> None:
        self.users = {"anna": StoredUser("agent", 1)}
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.failure: Exception | None = None

    def loader(self, username: str):
        async def load() -> StoredUser | None:
            self.reads += 1
            read = self.users.get(username)  # what the row held when the query ran
            if self.gate is not None:
                await self.gate.wait()
            if self.failure is not None:
                raise self.failure
            return read

        return load


async def until(condition) -> None:  # noqa: ANN001
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never met")


async def test_user_is_read_once_when_asked_again_within_ttl():
    clock, table = Clock(), Table()
    cache = UserCache(5.0, clock=clock)
    for _ in range(100):
        assert await cache.get("anna", table.loader("anna")) == StoredUser("agent", 1)
        clock.now += 0.04
    assert table.reads == 1


async def test_user_is_read_again_when_ttl_has_passed():
    clock, table = Clock(), Table()
    cache = UserCache(5.0, clock=clock)
    await cache.get("anna", table.loader("anna"))
    table.users["anna"] = StoredUser("viewer", 2)  # changed through another replica
    clock.now += 4.9
    assert (await cache.get("anna", table.loader("anna"))).role == "agent"
    clock.now += 0.2
    assert await cache.get("anna", table.loader("anna")) == StoredUser("viewer", 2)
    assert table.reads == 2


async def test_user_is_read_again_at_once_when_forgotten():
    table = Table()
    cache = UserCache(5.0)
    await cache.get("anna", table.loader("anna"))
    table.users["anna"] = StoredUser("agent", 2)
    cache.forget("anna")
    assert await cache.get("anna", table.loader("anna")) == StoredUser("agent", 2)


async def test_missing_user_is_remembered_until_created():
    table = Table()
    cache = UserCache(5.0)
    assert await cache.get("bo", table.loader("bo")) is None
    assert await cache.get("bo", table.loader("bo")) is None
    assert table.reads == 1
    table.users["bo"] = StoredUser("viewer", 1)
    cache.forget("bo")
    assert await cache.get("bo", table.loader("bo")) == StoredUser("viewer", 1)


async def test_concurrent_lookups_share_one_query_when_user_is_not_cached():
    table = Table()
    table.gate = asyncio.Event()
    cache = UserCache(5.0)
    waiting = [asyncio.create_task(cache.get("anna", table.loader("anna"))) for _ in range(1000)]
    await until(lambda: table.reads >= 1)
    await asyncio.sleep(0)
    table.gate.set()
    assert set(await asyncio.gather(*waiting)) == {StoredUser("agent", 1)}
    assert table.reads == 1


async def test_answer_read_before_a_change_is_not_kept_when_forgotten_meanwhile():
    table = Table()
    table.gate = asyncio.Event()
    cache = UserCache(5.0)
    before = asyncio.create_task(cache.get("anna", table.loader("anna")))
    await until(lambda: table.reads == 1)  # its query has read the old row
    table.users["anna"] = StoredUser("viewer", 2)
    cache.forget("anna")
    after = asyncio.create_task(cache.get("anna", table.loader("anna")))  # must not join the old query
    table.gate.set()
    assert (await before).token_version == 1
    assert (await after).token_version == 2
    assert await cache.get("anna", table.loader("anna")) == StoredUser("viewer", 2)
    assert table.reads == 2


async def test_failure_reaches_every_waiter_and_is_not_cached():
    table = Table()
    table.gate = asyncio.Event()
    table.failure = ConnectionError("database down")
    cache = UserCache(5.0)
    waiting = [asyncio.create_task(cache.get("anna", table.loader("anna"))) for _ in range(3)]
    await until(lambda: table.reads >= 1)
    table.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    table.failure = None
    assert await cache.get("anna", table.loader("anna")) == StoredUser("agent", 1)
    assert table.reads == 2


async def test_shared_query_goes_on_when_one_waiter_gives_up():
    table = Table()
    table.gate = asyncio.Event()
    cache = UserCache(5.0)
    impatient = asyncio.create_task(cache.get("anna", table.loader("anna")))
    patient = asyncio.create_task(cache.get("anna", table.loader("anna")))
    await until(lambda: table.reads >= 1)
    impatient.cancel()
    await asyncio.sleep(0)
    table.gate.set()
    assert await patient == StoredUser("agent", 1)
    assert impatient.cancelled()


async def test_every_call_reads_when_ttl_is_zero():
    table = Table()
    cache = UserCache(0)
    for _ in range(3):
        await cache.get("anna", table.loader("anna"))
    assert table.reads == 3


async def test_memory_stays_bounded_when_many_users_are_seen():
    table = Table()
    cache = UserCache(5.0, max_entries=10)
    for n in range(25):
        await cache.get(f"user{n}", table.loader(f"user{n}"))
    assert len(cache._entries) <= 10


# ---- tokens ---------------------------------------------------------------------------------


def token(ttl: int = 600, secret: str = SECRET) -> str:
    return security.issue_token(TokenClaims("anna", Role.AGENT, 3), secret_key=secret, ttl_seconds=ttl)


def test_token_claims_are_read_when_token_is_ours():
    assert TokenReader(SECRET).read(token()) == TokenClaims("anna", Role.AGENT, 3)


def test_accepted_token_is_not_verified_again_when_sent_again(monkeypatch):
    reader = TokenReader(SECRET)
    value = token()
    reader.read(value)
    monkeypatch.setattr(security.jwt, "decode", lambda *a, **k: pytest.fail("decoded twice"))
    assert reader.read(value).username == "anna"


def test_accepted_token_is_verified_again_when_its_expiry_has_passed(monkeypatch):
    clock = Clock(now=security.datetime.now(security.UTC).timestamp())
    reader = TokenReader(SECRET, clock=clock)
    value = token(ttl=60)
    reader.read(value)
    clock.now += 61

    def expired(*_args: object, **_kwargs: object) -> None:
        raise security.jwt.ExpiredSignatureError("Signature has expired")

    monkeypatch.setattr(security.jwt, "decode", expired)
    with pytest.raises(InvalidToken):
        reader.read(value)


@pytest.mark.parametrize("bad", ["not-a-jwt", token(secret="another-secret-that-is-long-enough-0123")])
def test_token_is_refused_every_time_when_not_ours(bad):
    reader = TokenReader(SECRET)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            reader.read(bad)


def test_altered_token_is_refused_when_a_valid_one_was_accepted():
    reader = TokenReader(SECRET)
    value = token()
    reader.read(value)
    head, payload, signature = value.split(".")
    with pytest.raises(InvalidToken):
        reader.read(f"{head}.{payload}.{'x' * len(signature)}")
