"""Fan-out to live stream clients: a slow client is dropped, the others are not slowed."""

from __future__ import annotations

import asyncio

from gateway.domain import StreamMessage
from gateway.stream import Hub, event_stream, format_event


def news(n: int) -> StreamMessage:
    return StreamMessage("unit.changed", {"unit_id": str(n)}, f"id-{n}")


async def test_slow_client_is_disconnected_when_its_queue_is_full():
    hub = Hub(queue_size=3)
    slow, fast = hub.subscribe(), hub.subscribe()
    received = []
    for n in range(5):
        hub.publish(news(n))
        received.append(fast.queue.get_nowait())  # the fast one keeps up
    assert [m.id for m in received] == [f"id-{n}" for n in range(5)]
    assert slow.closed and not fast.closed
    assert slow.queue.get_nowait() is None  # its stream ends; the browser reconnects
    assert len(hub) == 1 and hub.dropped == 1


async def test_stream_ends_when_subscription_is_closed():
    hub = Hub(queue_size=10)
    sub = hub.subscribe()
    hub.publish(news(1))
    hub.close_all()
    chunks = [chunk async for chunk in event_stream(hub, sub, heartbeat_seconds=5)]
    assert chunks[0].startswith("retry:")
    assert len(chunks) == 1  # what was not read yet is dropped with the subscription
    assert len(hub) == 0


async def test_heartbeat_is_sent_when_nothing_happens():
    hub = Hub(queue_size=10)
    sub = hub.subscribe()
    stream = event_stream(hub, sub, heartbeat_seconds=0.05)
    assert (await anext(stream)).startswith("retry:")
    assert await asyncio.wait_for(anext(stream), 1) == ": heartbeat\n\n"
    hub.publish(news(7))
    assert await anext(stream) == format_event(news(7))
    await stream.aclose()
    assert len(hub) == 0


def test_event_is_formatted_when_sent():
    assert format_event(news(1)) == 'id: id-1\nevent: unit.changed\ndata: {"unit_id":"1"}\n\n'
