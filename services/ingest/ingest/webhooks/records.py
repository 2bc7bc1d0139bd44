"""The Kafka records of one webhook, written so that the 200 waits for every acknowledgement."""

import asyncio
import functools
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faststream.kafka import KafkaBroker

from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.contracts.whatsapp import RAW_WEBHOOK_TYPE
from ingest.events import SOURCE, Outgoing


@dataclass(frozen=True)
class Record:
    topic: str
    value: bytes
    key: bytes
    headers: dict[str, str]
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class RawWebhook:
    event_id: str
    body: bytes
    key: str
    received_at: datetime
    app_id: str

    def record(self) -> Record:
        """CloudEvents binary mode: attributes in `ce_` headers, the body untouched."""
        headers = {
            "content-type": "application/json",
            "correlation_id": self.event_id,
            "ce_specversion": "1.0",
            "ce_id": self.event_id,
            "ce_type": RAW_WEBHOOK_TYPE,
            "ce_source": SOURCE,
            "ce_time": self.received_at.isoformat(),
            "ce_hanoutappid": self.app_id,
            "ce_hanoutsignature": "valid",
        }
        stamp = int(self.received_at.timestamp() * 1000)
        return Record(topics.WEBHOOKS_RAW, self.body, self.key.encode(), headers, stamp)


def event_record(outgoing: Outgoing) -> Record:
    """CloudEvents structured mode, keyed by the subject (the conversation key)."""
    event = outgoing.event
    headers = {"content-type": CONTENT_TYPE, "correlation_id": event.correlationid or event.id}
    value = event.model_dump_json(exclude_none=True).encode()
    return Record(outgoing.topic, value, event.key(), headers)


# aiokafka's murmur2 is pure Python (7-15 µs a key on the development machine); keys repeat (a
# number's raw bodies, a customer's conversation), so each key's hash is computed once.
_key_hash = functools.lru_cache(maxsize=1 << 16)(murmur2)


def partition_by_key(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The partition aiokafka's default partitioner picks (Java's murmur2 of the key)."""
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    hashed: int = _key_hash(key)
    return all_partitions[(hashed & 0x7FFFFFFF) % len(all_partitions)]


class Sink(Protocol):
    async def send(self, record: Record) -> Awaitable[Any]: ...


class KafkaSink:
    """A plain aiokafka producer for the webhook path (acks=all; not idempotent, see `make_broker`):
    FastStream's publish path costs as much CPU as the rest of a webhook, and this one is hot."""

    def __init__(self, bootstrap_servers: str, **config: Any) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._config = config
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id="ingest-webhooks",
            acks="all",
            enable_idempotence=False,
            partitioner=partition_by_key,
            **self._config,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, record: Record) -> Awaitable[Any]:
        if self._producer is None:
            raise ConnectionError("the webhook producer is not started")
        headers = [(name, value.encode()) for name, value in record.headers.items()]
        future: Awaitable[Any] = await self._producer.send(
            record.topic,
            record.value,
            key=record.key,
            headers=headers,
            timestamp_ms=record.timestamp_ms,
        )
        return future


class BrokerSink:
    """The same records through an injected FastStream broker (the in-memory one in tests)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send(self, record: Record) -> Awaitable[Any]:
        future: Awaitable[Any] = await self._broker.publish(
            record.value,
            record.topic,
            key=record.key,
            headers=record.headers,
            correlation_id=record.headers["correlation_id"],
            timestamp_ms=record.timestamp_ms,
            no_confirm=True,
        )
        return future


def _observe(future: Any) -> None:
    """Once we gave up waiting, a late failure is expected: read it so asyncio does not warn."""
    if not future.cancelled():
        future.exception()


async def write_durably(sink: Sink, records: Sequence[Record], timeout_s: float) -> None:
    """Hand every record to the producer in order, then wait until Kafka acknowledged them all.

    Enqueueing first and awaiting after lets one webhook's records share a produce request,
    while the producer keeps their order within a partition (one batch in flight per partition).
    """
    futures: list[Any] = []
    try:
        async with asyncio.timeout(timeout_s):  # no extra task per webhook, unlike wait_for
            for record in records:
                future = await sink.send(record)
                if future is not None:
                    futures.append(asyncio.ensure_future(future))
            await asyncio.gather(*futures)
    finally:
        for future in futures:
            future.add_done_callback(_observe)
