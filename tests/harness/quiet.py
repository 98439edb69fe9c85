"""Waiting for the system to be quiet, then checking the invariants."""

from __future__ import annotations

from harness.invariants import Databases, check
from nyprod_kit.testing import wait_until


async def assert_invariants(stack, timeout: float = 20) -> None:  # noqa: ANN001
    """Copies follow their owners within moments: wait for a clean report, else fail with it."""
    dbs = Databases(units=stack.database_urls["units"], prospects=stack.database_urls["prospects"], buyers=stack.database_urls["buyers"])
    last: list[str] = []

    async def clean() -> bool:
        nonlocal last
        last = await check(dbs)
        return not last

    try:
        await wait_until(clean, timeout=timeout, interval=0.3, message="a clean invariant report")
    except AssertionError:
        raise AssertionError("invariant violations:\n" + "\n".join(last)) from None
