"""The consumer loop every service uses: decode → handle (idempotently, a fetched batch in one
transaction) → commit the offsets. Poison messages go to ``<topic>.dlq`` and the line moves on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from itertools import chain
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.structs import OffsetAndMetadata
from contracts import topics
from contracts.envelope import Event
from contracts.registry import UndecodableEvent, decode
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from sqlalchemy.exc import DBAPIError, OperationalError

from .uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

_IDLE_POLL_MS = 500  # an idle consumer's poll: it returns at once when a record arrives

# What a kit subscriber's handler gets: FastStream's KafkaMessage of one fetch, with the records
# in ``raw_message`` and the aiokafka consumer in ``consumer``. It comes as the handler's argument
# (see _as_fetched), not through FastStream's Context: a Context argument is resolved by a
# synchronous function that FastDepends runs in a worker thread, a thread hop for every fetch.
Fetched = Any


async def _as_fetched(message: Any) -> Any:
    """The decoder of kit subscribers: the message as fetched. FastStream's own decoder would
    parse every record's JSON only for it to be thrown away; the kit decodes the records
    itself, into event classes. (Asynchronous: FastStream runs a synchronous decoder in a
    worker thread.)"""
    return message

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


class EventHandlers:
    """What a consumer does with each event type: handlers of the form ``fn(event, uow)``, each
    event in a fresh unit of work (``one``), or a fetched batch of them in one shared transaction
    (``many``) — one commit and one round of inbox/outbox work per batch instead of per event."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork] | None,
        handlers: Mapping[type[Event], Callable],
        unless: Mapping[type[Event], Callable[[Event], bool]] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._unless = dict(unless or {})

    def handles(self, event: Event) -> bool:
        """Whether the event is handled at all: an event its type's ``unless`` rule says can
        change nothing is skipped like an event of another type — no transaction, no inbox row
        (there is no effect to guard against applying twice)."""
        unless = self._unless.get(type(event))
        return type(event) in self._handlers and not (unless is not None and unless(event))

    async def one(self, event: Event) -> None:
        fn = self._handlers[type(event)]
        if self._uow_factory is None:
            await fn(event)
        else:
            await fn(event, self._uow_factory())

    async def many(self, events: list[Event]) -> None:
        if self._uow_factory is None:
            for event in events:
                await self.one(event)
            return
        uow = self._uow_factory()
        async with uow.shared_transaction(events):
            for event in events:
                await self._handlers[type(event)](event, uow)


def with_unit_of_work(
    uow_factory: Callable[[], UnitOfWork],
    handlers: Mapping[type[Event], Callable],
    unless: Mapping[type[Event], Callable[[Event], bool]] | None = None,
) -> EventHandlers:
    """Handlers of the form ``fn(event, uow)``, given a unit of work by the consumer; ``unless``
    names, per event type, the events that can change nothing here and are skipped."""
    return EventHandlers(uow_factory, handlers, unless)


def subscribe(
    broker: KafkaBroker,
    *topic_names: str,
    group_id: str,
    handlers: EventHandlers | Mapping[type[Event], Handler],
    max_attempts: int = 5,
    retry_delay: float = 0.05,
    batch_size: int = 100,
    workers: int = 1,
) -> None:
    """Subscribe ``handlers`` to ``topic_names`` in consumer group ``group_id``. Events of
    other types on those topics are skipped (and committed).

    ``workers`` consumers in the group share the partitions; each handles what one fetch
    returned — up to ``batch_size`` events — in one transaction, and if any of it fails, rolls
    the batch back and handles its events one by one (retries, dead letters). Partitions are
    assigned by range, the same numbers of every topic to the same consumer, so the events about
    one unit (the key of every saga event) are all handled by one consumer and two batches
    seldom lock the same rows."""
    if not isinstance(handlers, EventHandlers):
        handlers = EventHandlers(None, handlers)
    run = _Consumer(broker, group_id, handlers, OffsetCommitter(), max_attempts, retry_delay)
    for worker in range(workers):
        subscriber = batch_subscriber(
            broker,
            *topic_names,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            max_records=batch_size,
            partition_assignment_strategy=(RangePartitionAssignor,),
            title=f"{group_id}:{','.join(topic_names)}#{worker}",
        )

        @subscriber
        async def consume(message: Fetched) -> None:
            await run.batch(message.consumer, message.raw_message)


def listener(broker: KafkaBroker, *topic_names: str, title: str, gather_ms: int = 100) -> BatchSubscriber:
    """A batch subscriber for a replica that only listens (the gateway's live stream, the wake-up
    of waiting requests): no consumer group, so it sees every partition, from now on; nothing is
    stored, so nothing is committed or dead-lettered.

    Each fetch gathers what arrives within ``gather_ms`` instead of returning with the first
    record. Such a listener reads whole topics, and in a rush a fetch per arriving record was
    a fifth of the broker's CPU; the news is at most that much later."""
    return batch_subscriber(
        broker,
        *topic_names,
        group_id=None,
        auto_offset_reset="latest",
        ack_policy=AckPolicy.ACK_FIRST,
        max_records=500,
        fetch_min_bytes=1 << 20,
        fetch_max_wait_ms=gather_ms,
        title=title,
    )


def decoded(records: Iterable[ConsumerRecord]) -> Iterator[Event]:
    """The events of ``records``, skipping what cannot be decoded: for listeners that store
    nothing (the owning consumers dead-letter such a record)."""
    for record in records:
        try:
            yield decode(record.value)
        except UndecodableEvent:
            continue


def batch_subscriber(broker: KafkaBroker, *topic_names: str, **options: Any) -> BatchSubscriber:
    """A FastStream batch subscriber (the handler gets what one fetch brought) that hands over a
    record the moment it arrives.

    FastStream's batch subscriber sleeps for its whole poll timeout after every empty poll, so a
    record arriving on an idle consumer waits up to that long — a few of those per booking. Here
    the poll itself is the wait (aiokafka returns as soon as a record is there); a pause only
    follows a poll that came back empty early (no partitions assigned yet)."""
    options.setdefault("fetch_max_wait_ms", 500)
    subscriber = broker.subscriber(*topic_names, batch=True, batch_timeout_ms=_IDLE_POLL_MS, decoder=_as_fetched, **options)
    assert isinstance(subscriber, BatchSubscriber)

    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        fetched = await consumer.getmany(timeout_ms=_IDLE_POLL_MS, max_records=subscriber.max_records)
        if not fetched:
            if loop.time() - started < _IDLE_POLL_MS / 2000:
                await asyncio.sleep(_IDLE_POLL_MS / 1000)
            return ()
        return tuple(chain.from_iterable(fetched.values()))

    subscriber.get_msg = get_msg  # type: ignore[method-assign]
    return subscriber


class _Consumer:
    def __init__(
        self,
        broker: KafkaBroker,
        group_id: str,
        handlers: EventHandlers,
        committer: OffsetCommitter,
        max_attempts: int,
        retry_delay: float,
    ) -> None:
        self._broker = broker
        self._group_id = group_id
        self._handlers = handlers
        self._committer = committer
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay

    async def batch(self, consumer, records: tuple[ConsumerRecord, ...]) -> None:  # noqa: ANN001
        decoded: list[Event | UndecodableEvent] = []
        for record in records:
            try:
                decoded.append(decode(record.value))
            except UndecodableEvent as exc:
                decoded.append(exc)
        handled = [e for e in decoded if isinstance(e, Event) and self._handlers.handles(e)]
        together = False
        if len(handled) > 1:
            try:
                await self._handlers.many(handled)
                together = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - each event gets its own chance below
                log.info("%s: batch of %d events rolled back (%s: %s); handling them one by one", self._group_id, len(handled), type(exc).__name__, exc)
        for i, (record, event) in enumerate(zip(records, decoded, strict=True)):
            if isinstance(event, UndecodableEvent):
                ok = await _dead_letter(self._broker, record, f"undecodable: {event}")
            elif not together and self._handlers.handles(event):
                ok = await self._alone(record, event)
            else:
                ok = True
            if not ok:
                _rewind(consumer, records[i:])
                return
            await self._committer.processed(consumer, record.topic, record.partition, record.offset)

    async def _alone(self, record: ConsumerRecord, event: Event) -> bool:
        """The event in a transaction of its own: transient failures retried until they pass,
        others up to ``max_attempts`` times before the event is dead-lettered. False when the
        dead-letter topic cannot be reached either."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._handlers.one(event)
                return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _is_transient(exc):
                    log.warning("%s on %s: %s; retrying", self._group_id, event.TYPE, exc)
                    await asyncio.sleep(min(5.0, self._retry_delay * 2 ** min(attempt, 7)))
                    continue
                if attempt >= self._max_attempts:
                    log.exception("%s gives up on %s %s", self._group_id, event.TYPE, event.event_id)
                    return await _dead_letter(self._broker, record, f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self._retry_delay * 2**attempt)


def _rewind(consumer, records: tuple[ConsumerRecord, ...]) -> None:  # noqa: ANN001
    """Fetch these records again: each partition restarts at its first one not yet processed."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    for tp, offset in first.items():
        consumer.seek(tp, offset)


async def _dead_letter(broker: KafkaBroker, record: ConsumerRecord, error: str) -> bool:
    """Park the record on ``<topic>.dlq``. If even that fails, False: the caller rewinds to it
    (it is fetched and tried again) rather than let a later commit skip over it."""
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
        await asyncio.sleep(1)
        return False
