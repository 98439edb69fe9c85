"""Kafka look-ups the scenario tests need: consumer-group lag and dead letters."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def group_caught_up(bootstrap: str, group: str, topics: tuple[str, ...]) -> bool:
    """True when the group has committed every partition of ``topics`` up to its end."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or set())]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or set())]
        ends = await consumer.end_offsets(partitions)
        for tp, end in ends.items():
            meta = committed.get(tp)
            if end > 0 and (meta is None or meta.offset < end):
                return False
        return True
    finally:
        await consumer.stop()
        await admin.close()


async def read_all(bootstrap: str, topic: str) -> list:
    """Every record currently in ``topic``."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.assignment() or {TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()}
        ends = await consumer.end_offsets(list(partitions))
        records = []
        async def behind() -> bool:
            for tp, end in ends.items():
                if await consumer.position(tp) < end:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()
