"""Kafka → Server-Sent Events. Every gateway replica reads every status event (no consumer group)
and fans it out to its connected clients, each through its own bounded queue."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from contracts import topics
from faststream.kafka import KafkaBroker

from nyprod_kit.consumer import Fetched, decoded, listener

from .domain import StreamMessage, stream_message

log = logging.getLogger(__name__)

# ends a client's stream: its queue overflowed, or the gateway stops
_END = None


class Subscription:
    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[StreamMessage | None] = asyncio.Queue(maxsize=size)
        self.closed = False

    def offer(self, message: StreamMessage) -> bool:
        """False when the client is too far behind to take another message."""
        try:
            self.queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            return False

    def close(self) -> None:
        # what it had not read yet is dropped: a reconnecting client reloads what it shows
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_END)


class Hub:
    """The connected clients of this replica. Publishing never waits: a client whose queue is
    full is disconnected (its browser reconnects) instead of slowing the others or the consumer."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._subscriptions)

    def subscribe(self) -> Subscription:
        sub = Subscription(self._queue_size)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def publish(self, message: StreamMessage) -> None:
        for sub in list(self._subscriptions):
            if not sub.offer(message):
                self._subscriptions.discard(sub)
                sub.close()
                self.dropped += 1
                log.info("live stream client too slow: disconnected")

    def close_all(self) -> None:
        for sub in list(self._subscriptions):
            sub.close()
        self._subscriptions.clear()


def format_event(message: StreamMessage) -> str:
    data = json.dumps(message.data, separators=(",", ":"))
    return f"id: {message.id}\nevent: {message.event}\ndata: {data}\n\n"


async def event_stream(hub: Hub, sub: Subscription, heartbeat_seconds: float) -> AsyncIterator[str]:
    """The text of one client's stream: a greeting, then events, with a comment as heartbeat so
    proxies keep the connection open and a dead client is noticed."""
    try:
        yield "retry: 2000\n: connected\n\n"
        while True:
            try:
                message = await asyncio.wait_for(sub.queue.get(), heartbeat_seconds)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            if message is _END:
                return
            yield format_event(message)
    finally:
        hub.unsubscribe(sub)


def register(broker: KafkaBroker, hub: Hub) -> None:
    """Feed the hub from the event topics. No group_id: each replica gets every partition, and
    starts at the end (clients load the current state themselves; the stream only tells news)."""

    @listener(broker, topics.UNITS, topics.PROSPECTS, topics.BUYERS, title="gateway:live-stream")
    async def to_clients(message: Fetched) -> None:
        for event in decoded(message.raw_message):
            news = stream_message(event)
            if news is not None:
                hub.publish(news)
