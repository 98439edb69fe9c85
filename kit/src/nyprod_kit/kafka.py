"""The broker every service uses, and explicit topic creation."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from contracts import topics
from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)


def make_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    # acks=all + idempotence: a publish is confirmed only once the broker stored it, and a
    # producer retry cannot write it twice (aiokafka's defaults are acks=1, no idempotence)
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=10_000,
        graceful_timeout=10.0,
        logger=logging.getLogger(f"faststream.{client_id}"),
        log_level=logging.DEBUG,
    )


async def ensure_topics(bootstrap_servers: str, names: tuple[str, ...] | None = None) -> None:
    """Create the event topics and their dead-letter topics with the fixed partition count."""
    names = names or tuple(t for base in topics.ALL for t in (base, topics.dead_letter(base)))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        new = [NewTopic(name=n, num_partitions=topics.PARTITIONS, replication_factor=1) for n in missing]
        try:
            await admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another replica created them first
        log.info("created topics %s", ", ".join(missing))
    finally:
        await admin.close()
