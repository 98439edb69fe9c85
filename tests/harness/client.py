"""A thin client of the public gateway API for scenario tests."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=f"{base_url}/api/v1", headers=headers, timeout=40)

    @classmethod
    async def login(cls, base_url: str, username: str = "admin", password: str = "admin") -> Api:
        async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=10) as http:
            resp = await http.post("/auth/token", json={"username": username, "password": password})
            resp.raise_for_status()
        return cls(base_url, resp.json()["access_token"])

    async def close(self) -> None:
        await self.http.aclose()

    async def ok(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 202), **kw: Any) -> Any:
        resp = await self.http.request(method, path, **kw)
        expected = (expect,) if isinstance(expect, int) else expect
        assert resp.status_code in expected, f"{method} {path} → {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    async def project(self, name: str | None = None) -> dict:
        return await self.ok("POST", "/projects", 201, json={"name": name or f"Brf Test {uuid.uuid4().hex[:6]}"})

    async def unit(self, project_id: str, name: str | None = None, **data: Any) -> dict:
        body = {"project_id": project_id, "name": name or f"A-{uuid.uuid4().hex[:6]}", "rooms": 3, "living_area_sqm": 74.5, "floor": 2, "price_sek": 3_250_000, **data}
        return await self.ok("POST", "/units", 201, json=body)

    async def prospect(self, first_name: str = "Åsa", last_name: str | None = None, **data: Any) -> dict:
        body = {"first_name": first_name, "last_name": last_name or f"Öberg-{uuid.uuid4().hex[:6]}", **data}
        for _ in range(100):  # interests name units the prospects service may learn of a moment later
            resp = await self.http.post("/prospects", json=body)
            if resp.status_code != 404:
                break
            await asyncio.sleep(0.1)
        assert resp.status_code == 201, resp.text
        return resp.json()

    async def book(self, prospect_id: str, unit_id: str, **headers: str) -> dict:
        return await self.ok("POST", "/bookings", (200, 202), json={"prospect_id": prospect_id, "unit_id": unit_id}, headers=headers)

    async def booking(self, booking_id: str, wait: float | None = None) -> dict:
        params = {"wait": wait} if wait is not None else {}
        return await self.ok("GET", f"/bookings/{booking_id}", 200, params=params)

    async def final(self, booking_id: str, timeout: float = 20) -> dict:
        b = await self.booking(booking_id, wait=min(timeout, 30))
        assert b["status"] != "pending", f"booking {booking_id} still pending after {timeout}s"
        return b

    async def get(self, path: str, **params: Any) -> Any:
        return await self.ok("GET", path, 200, params=params)
