"""Many agents pressing BOKA at once: exactly one wins each unit, everyone else is told
"already booked", and nothing is left half-done."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from harness.quiet import assert_invariants

pytestmark = pytest.mark.slow


async def test_fifty_concurrent_bookings_of_one_unit_confirm_exactly_one(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    prospects = await asyncio.gather(*(api.prospect("Rusa", f"Kö-{i}") for i in range(50)))
    bookings = await asyncio.gather(*(api.book(p["id"], unit["id"]) for p in prospects))
    finals = await asyncio.gather(*(api.final(b["booking_id"], timeout=30) for b in bookings))
    outcome = Counter((f["status"], f["reason"]) for f in finals)
    assert outcome == {("confirmed", None): 1, ("rejected", "unit_not_available"): 49}
    winner = next(f for f in finals if f["status"] == "confirmed")

    async def one_buyer_copy() -> bool:
        buyers = (await api.get("/buyers", unit_id=unit["id"]))["items"]
        return [b["prospect_id"] for b in buyers] == [winner["prospect_id"]]

    from nyprod_kit.testing import wait_until

    await wait_until(one_buyer_copy, timeout=15, message="the winner's buyer copy on the unit")

    async def losers_left_no_buyer_copy() -> bool:
        # the buyers service removes each loser's copy when it hears the rejection
        return (await api.get("/buyers", q="Kö-"))["total"] == 1

    await wait_until(losers_left_no_buyer_copy, timeout=15, message="exactly one buyer copy")
    await assert_invariants(stack)


async def test_two_hundred_concurrent_bookings_over_forty_units_confirm_one_per_unit(api, stack):
    project = await api.project()
    units = await asyncio.gather(*(api.unit(project["id"], f"R-{i:02d}") for i in range(40)))
    prospects = await asyncio.gather(*(api.prospect("Säljstart", f"Nr-{i}") for i in range(200)))
    pairs = [(prospects[i]["id"], units[i % 40]["id"]) for i in range(200)]
    bookings = await asyncio.gather(*(api.book(p, u) for p, u in pairs))
    finals = await asyncio.gather(*(api.final(b["booking_id"], timeout=30) for b in bookings))
    confirmed = Counter(f["unit_id"] for f in finals if f["status"] == "confirmed")
    assert set(confirmed) == {u["id"] for u in units}
    assert set(confirmed.values()) == {1}
    assert Counter(f["status"] for f in finals) == {"confirmed": 40, "rejected": 160}
    listed = await api.get("/units", project_id=project["id"], status="booked", limit=100)
    assert listed["total"] == 40
    await assert_invariants(stack)
