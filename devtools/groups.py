"""Start consumer groups at the end of their topics, so a shared broker's history is skipped."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError

from hanout_shared.platform.kafka import ensure_topics


async def _partitions(bootstrap: str, names: Sequence[str]) -> list[TopicPartition]:
    # A producer's metadata lookup is reliable where a consumer's partitions_for_topic may be None.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [
            TopicPartition(name, p) for name in names for p in await producer.partitions_for(name)
        ]
    finally:
        await producer.stop()


async def commit_at_end(bootstrap: str, group: str, names: Sequence[str]) -> bool:
    """Commit `group` at the end of `names`; False while another process consumes as it."""
    parts = await _partitions(bootstrap, names)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.commit(await consumer.end_offsets(parts))
    except CommitFailedError:
        return False
    finally:
        await consumer.stop()
    return True


async def start_groups_at_end(
    bootstrap: str, groups: Mapping[str, Sequence[str]], *, wait_s: float = 0.0
) -> None:
    """Every group starts at its topics' end; a group in use is waited for up to `wait_s`."""
    every_topic = sorted({name for names in groups.values() for name in names})
    partitions = int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "1"))
    await ensure_topics(bootstrap, partitions=partitions, replication=1, topics=every_topic)
    deadline = time.monotonic() + wait_s
    for group, names in groups.items():
        while not await commit_at_end(bootstrap, group, names):
            if time.monotonic() > deadline:
                raise RuntimeError(f"another process keeps consuming as group {group!r}")
            await asyncio.sleep(1.0)
