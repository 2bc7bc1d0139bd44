"""Reading inbox.events.v1 back, for a stream resuming from before what its replica holds."""

import asyncio
import json
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hanout_shared.contracts import topics

logger = logging.getLogger("hanout.inbox.replay")
Positions = dict[int, int]
Record = tuple[int, int, bytes]


def _belongs(body: bytes, workspace_id: str) -> bool:
    try:
        return bool(json.loads(body).get("workspaceid") == workspace_id)
    except (ValueError, AttributeError):
        return False


class TopicReader:
    """Reads a workspace's events between two positions straight from Kafka (no group).

    Bounded: a range wider than `limit` records, offsets Kafka no longer keeps, or a slow
    broker answer None, and the client is told to reload instead.
    """

    def __init__(self, bootstrap_servers: str, *, limit: int, timeout_s: float = 10.0) -> None:
        self._bootstrap, self._limit, self._timeout_s = bootstrap_servers, limit, timeout_s

    async def read(
        self, workspace_id: str, floor: Positions, until: Positions
    ) -> list[Record] | None:
        ranges = {p: (floor.get(p, 0), end) for p, end in until.items() if floor.get(p, 0) < end}
        if not ranges:
            return []
        if sum(end - start for start, end in ranges.values()) > self._limit:
            return None
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, auto_offset_reset="none"
        )
        try:
            await consumer.start()
            return await asyncio.wait_for(
                self._scan(consumer, workspace_id, ranges), self._timeout_s
            )
        except (KafkaError, TimeoutError, OSError):
            logger.warning("could not read the live topic back", exc_info=True)
            return None
        finally:
            await consumer.stop()

    async def _scan(
        self, consumer: AIOKafkaConsumer, workspace_id: str, ranges: dict[int, tuple[int, int]]
    ) -> list[Record]:
        pending = {TopicPartition(topics.INBOX_EVENTS, p): r for p, r in ranges.items()}
        consumer.assign(list(pending))
        for partition, (start, _) in pending.items():
            consumer.seek(partition, start)
        found: list[Record] = []
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for partition, records in batch.items():
                end = pending[partition][1]
                found += [
                    (partition.partition, r.offset, r.value)
                    for r in records
                    if r.offset < end and _belongs(r.value, workspace_id)
                ]
            for partition in list(pending):
                if await consumer.position(partition) >= pending[partition][1]:
                    del pending[partition]
        return sorted(found, key=lambda record: (record[0], record[1]))
