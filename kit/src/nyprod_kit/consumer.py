"""The consumer loop every service uses: decode → handle (idempotently, in the handler's own
transaction) → commit the offset. Poison messages go to ``<topic>.dlq`` and the line moves on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

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


def subscribe(
    broker: KafkaBroker,
    *topic_names: str,
    group_id: str,
    handlers: Mapping[type[Event], Handler],
    max_attempts: int = 5,
    retry_delay: float = 0.05,
) -> None:
    """Subscribe ``handlers`` (event class → async fn) to ``topic_names`` in consumer group
    ``group_id``. Events of other types on those topics are skipped (and committed)."""

    @broker.subscriber(
        *topic_names,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_poll_records=200,
        title=f"{group_id}:{','.join(topic_names)}",
    )
    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            event = decode(message.body)
        except UndecodableEvent as exc:
            await _dead_letter(broker, record, f"undecodable: {exc}")
            await message.ack()
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
                        await _dead_letter(broker, record, f"{type(exc).__name__}: {exc}")
                        break
                    await asyncio.sleep(retry_delay * 2**attempt)
        await message.ack()


async def _dead_letter(broker: KafkaBroker, record, error: str) -> None:  # noqa: ANN001
    log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, error)
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
