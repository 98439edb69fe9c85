"""The live stream: every agent's open page hears of a booking within moments."""

from __future__ import annotations

import asyncio
import json

import httpx

from nyprod_kit.testing import wait_until


async def listen(url: str, token: str, events: list, ready: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=None) as client:
        async with client.stream("GET", f"{url}/api/v1/stream", params={"access_token": token}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            ready.set()
            name = None
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and name:
                    events.append((name, json.loads(line.split(":", 1)[1])))
                    name = None


async def test_two_agents_see_the_unit_turn_booked_and_the_booking_confirmed(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    prospect = await api.prospect()
    token = api.http.headers["Authorization"].split()[1]
    agents = [([], asyncio.Event()) for _ in range(2)]
    tasks = [asyncio.create_task(listen(stack.gateway_url, token, events, ready)) for events, ready in agents]
    try:
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for _, ready in agents)), 10)
        loop = asyncio.get_running_loop()
        started = loop.time()
        booking = await api.book(prospect["id"], unit["id"])
        for events, _ in agents:
            await wait_until(
                lambda events=events: ("unit.status", unit["id"], "booked") in [(n, d.get("unit_id"), d.get("status")) for n, d in events],
                timeout=5,
                message="unit.status booked",
            )
            await wait_until(
                lambda events=events: ("booking.status", booking["booking_id"], "confirmed") in [(n, d.get("booking_id"), d.get("status")) for n, d in events],
                timeout=5,
                message="booking.status confirmed",
            )
        # within a second or two of the BOKA press on this shared 2-core machine
        assert loop.time() - started < 3
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_stream_refuses_a_request_without_a_token(stack):
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.get(f"{stack.gateway_url}/api/v1/stream")
    assert resp.status_code == 401
