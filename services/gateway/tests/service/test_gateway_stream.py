"""The live stream: events published to Kafka reach a connected client as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
from contracts.booking import BookingConfirmed
from contracts.types import UnitStatus
from contracts.units import UnitChanged

from nyprod_kit.kafka import make_broker
from nyprod_kit.testing import kafka_bootstrap


@pytest.fixture(scope="module")
async def publisher():
    broker = make_broker(kafka_bootstrap(), client_id="gateway-stream-tests")
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture(scope="module")
async def base_url(make_settings, serve, build):
    async with serve(build(make_settings(stream_heartbeat_seconds=1.0))) as base:
        yield base


class SseReader:
    """Reads events from an open stream response into a list, in the background."""

    def __init__(self, response: httpx.Response) -> None:
        self.events: list[tuple[str, dict]] = []
        self.comments: list[str] = []
        self._task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        name, data = None, []
        async for line in response.aiter_lines():
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif line == "" and name:
                self.events.append((name, json.loads("\n".join(data))))
                name, data = None, []

    def find(self, event: str, **fields) -> dict | None:
        for name, data in self.events:
            if name == event and all(data.get(k) == v for k, v in fields.items()):
                return data
        return None

    def close(self) -> None:
        self._task.cancel()


async def publish_until_seen(publisher, reader: SseReader, event, expected: str, **fields) -> dict:
    """The stream starts at the end of the topics once its consumer has its partitions: publish
    (each time as a new event) until the client sees it, within a deadline."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = event.model_copy(update={"event_id": uuid.uuid4()})
        await publisher.publish(fresh.to_bytes(), topic=event.TOPIC, key=event.key.encode())
        for _ in range(20):
            found = reader.find(expected, **fields)
            if found:
                return found
            await asyncio.sleep(0.05)
    raise AssertionError(f"no {expected} {fields} on the stream; got {reader.events}")


async def token(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": username})
    return response.json()["access_token"]


async def test_client_receives_unit_status_when_unit_changed_is_published(base_url, publisher):
    unit_id = uuid.uuid4()
    changed = UnitChanged(
        unit_id=unit_id,
        revision=2,
        project_id=uuid.uuid4(),
        name="A-1101",
        status=UnitStatus.BOOKED,
        previous_status=UnitStatus.AVAILABLE,
        booking_id=uuid.uuid4(),
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        access_token = await token(client, "viewer")
        # the query parameter is how a browser's EventSource logs in
        async with client.stream("GET", "/api/v1/stream", params={"access_token": access_token}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = SseReader(response)
            try:
                data = await publish_until_seen(publisher, reader, changed, "unit.status", unit_id=str(unit_id))
                assert data == {"unit_id": str(unit_id), "status": "booked", "previous_status": "available", "unit_name": "A-1101"}
            finally:
                reader.close()


async def test_client_receives_booking_status_when_booking_is_confirmed(base_url, publisher):
    booking_id, unit_id = uuid.uuid4(), uuid.uuid4()
    confirmed = BookingConfirmed(booking_id=booking_id, unit_id=unit_id, prospect_id=uuid.uuid4())
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        headers = {"Authorization": f"Bearer {await token(client, 'agent')}"}
        async with client.stream("GET", "/api/v1/stream", headers=headers) as response:
            reader = SseReader(response)
            try:
                data = await publish_until_seen(publisher, reader, confirmed, "booking.status", booking_id=str(booking_id))
                assert data == {"booking_id": str(booking_id), "unit_id": str(unit_id), "status": "confirmed", "reason": None}
                # with nothing to tell, a comment keeps the connection alive
                deadline = time.monotonic() + 10
                while "heartbeat" not in reader.comments and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                assert "heartbeat" in reader.comments
            finally:
                reader.close()


async def test_stream_is_refused_when_token_is_bad(base_url):
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/api/v1/stream", params={"access_token": "forged"})
    assert response.status_code == 401
