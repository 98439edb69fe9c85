"""The consumer loop every service uses: decode → handle (idempotently, in the handler's own
transaction) → commit the offset. Poison messages go to ``<topic>.dlq`` and the line moves on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata
from contracts import topics
from contracts.envelope import Event
from contracts.registry import UndecodableEvent, decode
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

# An unreachable database or broker is not the message's fault: keep retrying it (the saga's
# deadline covers the wait) instead of dead-lettering good messages during an outage.
_TRANSIENT = (OperationalError, ConnectionError, OSError, TimeoutError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _TRANSIENT)


class OffsetCommitter:
    """Commits processed offsets in batches instead of one broker round trip per message.

    Only offsets of messages whose handler has finished (and so whose transaction committed) are
    ever committed, by explicit offset, so a crash redelivers at most the last batch — which the
    inbox absorbs. An idle consumer's last offsets are committed after ``interval`` seconds.
    """

    def __init__(self, interval: float = 0.1, max_pending: int = 100) -> None:
        self._interval = interval
        self._max_pending = max_pending
        self._offsets: dict = {}  # consumer → {TopicPartition: next offset}
        self._pending = 0
        self._last_flush = 0.0
        self._timer: asyncio.Task[None] | None = None

    async def processed(self, consumer, topic: str, partition: int, offset: int) -> None:  # noqa: ANN001
        self._offsets.setdefault(consumer, {})[TopicPartition(topic, partition)] = offset + 1
        self._pending += 1
        loop = asyncio.get_running_loop()
        if self._pending >= self._max_pending or loop.time() - self._last_flush >= self._interval:
            await self.flush()
        elif self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._interval)
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        offsets, self._offsets, self._pending = self._offsets, {}, 0
        self._last_flush = asyncio.get_running_loop().time()
        for consumer, positions in offsets.items():
            try:
                await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in positions.items()})
            except Exception as exc:
                # During a rebalance the commit is refused: keep the offsets of partitions this
                # consumer still owns and try again shortly; a partition that moved to another
                # consumer is redelivered there from its last commit (the inbox absorbs it).
                owned = consumer.assignment()
                kept = self._offsets.setdefault(consumer, {})
                for tp, off in positions.items():
                    if tp in owned and tp not in kept:
                        kept[tp] = off
                if not kept:
                    del self._offsets[consumer]
                log.info("offset commit deferred (%s: %s)", type(exc).__name__, exc)
        if any(self._offsets.values()) and (self._timer is None or self._timer.done()):
            self._timer = asyncio.create_task(self._flush_later())


def subscribe(
    broker: KafkaBroker,
    *topic_names: str,
    group_id: str,
    handlers: Mapping[type[Event], Handler],
    max_attempts: int = 5,
    retry_delay: float = 0.05,
    workers: int = 1,
) -> None:
    """Subscribe ``handlers`` (event class → async fn) to ``topic_names`` in consumer group
    ``group_id``. Events of other types on those topics are skipped (and committed)."""

    # FastStream's concurrent manual-commit mode takes one topic per subscriber
    groups = [(t,) for t in topic_names] if workers > 1 else [topic_names]
    for names in groups:
        _subscribe_one(broker, names, group_id, handlers, max_attempts, retry_delay, workers)


def _subscribe_one(
    broker: KafkaBroker,
    topic_names: tuple[str, ...],
    group_id: str,
    handlers: Mapping[type[Event], Handler],
    max_attempts: int,
    retry_delay: float,
    workers: int,
) -> None:
    committer = OffsetCommitter()

    @broker.subscriber(
        *topic_names,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        # fetches return as soon as a message arrives; this only bounds idle polling
        fetch_max_wait_ms=500,
        max_poll_records=200,
        # one consumer per worker, each with its own partitions (not one partition shared)
        **({"max_workers": workers} if workers > 1 else {}),
        title=f"{group_id}:{','.join(topic_names)}",
    )
    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            event = decode(message.body)
        except UndecodableEvent as exc:
            if not await _dead_letter(broker, message, f"undecodable: {exc}"):
                return
            await committer.processed(message.consumer, record.topic, record.partition, record.offset)
            return

        handler = handlers.get(type(event))
        if handler is not None:
            attempt = 0
            while True:
                attempt += 1
                try:
                    await handler(event)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if _is_transient(exc):
                        log.warning("%s on %s: %s; retrying", group_id, event.TYPE, exc)
                        await asyncio.sleep(min(5.0, retry_delay * 2 ** min(attempt, 7)))
                        continue
                    if attempt >= max_attempts:
                        log.exception("%s gives up on %s %s", group_id, event.TYPE, event.event_id)
                        if not await _dead_letter(broker, message, f"{type(exc).__name__}: {exc}"):
                            return
                        break
                    await asyncio.sleep(retry_delay * 2**attempt)
        await committer.processed(message.consumer, record.topic, record.partition, record.offset)


async def _dead_letter(broker: KafkaBroker, message, error: str) -> bool:  # noqa: ANN001
    """Park the message on ``<topic>.dlq``. If even that fails, rewind to it (it is fetched and
    tried again) rather than let a later commit skip over it: False then."""
    record = message.raw_message
    log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, error)
    try:
        await broker.publish(
            record.value,
            topic=topics.dead_letter(record.topic),
            key=record.key,
            headers={
                "x-origin-topic": record.topic,
                "x-origin-partition": str(record.partition),
                "x-origin-offset": str(record.offset),
                "x-error": error[:2000],
            },
        )
        return True
    except Exception as exc:  # noqa: BLE001 - the broker is away; the message waits for it
        log.warning("dead-letter topic unreachable (%s); will retry %s[%s]@%s", exc, record.topic, record.partition, record.offset)
        await message.nack()
        await asyncio.sleep(1)
        return False


def with_unit_of_work(uow_factory: Callable[[], object], handlers: Mapping[type[Event], Callable]) -> dict[type[Event], Handler]:
    """Adapts handlers of the form ``fn(event, uow)`` to the consumer: a fresh unit of work each."""

    def bind(fn: Callable) -> Handler:
        async def handle(event: Event) -> None:
            await fn(event, uow_factory())

        return handle

    return {event_type: bind(fn) for event_type, fn in handlers.items()}
