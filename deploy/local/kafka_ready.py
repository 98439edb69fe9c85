"""Exits 0 once the broker at argv[1] really takes a message and hands it back (a produce and
consume round trip on a topic of its own), 1 after argv[2] seconds (default 60)."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

TOPIC = "nyprod.launcher.ready"


async def round_trip(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()
    marker = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(TOPIC, marker)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        tp = TopicPartition(TOPIC, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        record = await asyncio.wait_for(consumer.getone(), 10)
        if record.value != marker:
            raise RuntimeError("read back a different message")
    finally:
        await consumer.stop()


def main() -> None:
    bootstrap = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 60)
    last = ""
    while time.monotonic() < deadline:
        try:
            asyncio.run(asyncio.wait_for(round_trip(bootstrap), 15))
            return
        except Exception as exc:  # noqa: BLE001 - the broker is still starting
            last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
    print(f"kafka: no produce/consume round trip with {bootstrap}: {last}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
