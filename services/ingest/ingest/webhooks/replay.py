"""`python -m ingest.webhooks.replay --since …`: re-derive events from whatsapp.webhooks.raw.v1.

After a parser fix (or once a missing channel is registered), the stored bodies of a time range are
translated again with today's code and registry and published. Event ids depend only on the body
and on what Meta put in it, so downstream upserts absorb what was already there.
"""

import argparse
import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.platform.logs import configure_logging
from ingest.channels.store import ChannelStore, TokenCipher
from ingest.events import Outgoing
from ingest.settings import IngestSettings
from ingest.store import connect
from ingest.webhooks.model.translate import Channels, Delivery, translate

logger = logging.getLogger("hanout.ingest.replay")


@dataclass
class ReplayReport:
    bodies: int = 0
    events: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


def rederive(body: bytes, headers: Mapping[str, bytes], channels: Channels) -> list[Outgoing]:
    """The events of one raw record, exactly as the webhook derived them (same ids)."""
    received_at = datetime.fromisoformat(headers["ce_time"].decode())
    app_id = headers.get("ce_hanoutappid", b"").decode() or None
    delivery = Delivery(hashlib.sha256(body).hexdigest(), received_at, app_id)
    payload = json.loads(body)
    return translate(payload, delivery, channels).outgoing if isinstance(payload, dict) else []


async def _start_offsets(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, since: datetime
) -> dict[TopicPartition, int]:
    """Seek each partition to `since`; return the end offset of those with records to read."""
    numbers = await producer.partitions_for(topics.WEBHOOKS_RAW)  # waits for the metadata
    partitions = [TopicPartition(topics.WEBHOOKS_RAW, p) for p in sorted(numbers)]
    consumer.assign(partitions)
    found = await consumer.offsets_for_times(
        {tp: int(since.timestamp() * 1000) for tp in partitions}
    )
    ends = await consumer.end_offsets(partitions)
    starts = {tp: (found[tp].offset if found.get(tp) else ends[tp]) for tp in partitions}
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    return {tp: ends[tp] for tp in partitions if starts[tp] < ends[tp]}


async def replay(
    bootstrap_servers: str,
    channels: Channels,
    since: datetime,
    until: datetime,
    *,
    dry_run: bool = False,
) -> ReplayReport:
    report = ReplayReport()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    await consumer.start()
    await producer.start()
    try:
        remaining = await _start_offsets(consumer, producer, since)
        until_ms = int(until.timestamp() * 1000)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset + 1 >= remaining.get(tp, 0) or record.timestamp > until_ms:
                        remaining.pop(tp, None)
                    if record.timestamp > until_ms:
                        break
                    await _replay_one(producer, record, channels, report, dry_run)
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return report


async def _replay_one(
    producer: AIOKafkaProducer,
    record: object,
    channels: Channels,
    report: ReplayReport,
    dry_run: bool,
) -> None:
    headers = dict(getattr(record, "headers", ()) or ())
    outgoing = rederive(getattr(record, "value", b""), headers, channels)
    report.bodies += 1
    for item in outgoing:
        report.events += 1
        report.by_topic[item.topic] = report.by_topic.get(item.topic, 0) + 1
        if not dry_run:
            event = item.event
            await producer.send(
                item.topic,
                event.model_dump_json(exclude_none=True).encode(),
                key=event.key(),
                headers=[("content-type", CONTENT_TYPE.encode())],
            )


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _main(args: argparse.Namespace) -> ReplayReport:
    settings = IngestSettings()
    configure_logging("ingest-replay", settings.log_level)
    client = connect(settings.mongodb_url)
    try:
        cipher = TokenCipher(settings.token_secrets())
        records = await ChannelStore(client[settings.mongodb_database], cipher).all_channels()
    finally:
        await client.close()
    channels = {record.phone_number_id: record for record in records}
    return await replay(
        settings.kafka_bootstrap_servers, channels, args.since, args.until, dry_run=args.dry_run
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--since", type=_moment, required=True, help="ISO time, e.g. 2026-07-01")
    parser.add_argument("--until", type=_moment, default=datetime.now(UTC), help="ISO time")
    parser.add_argument("--dry-run", action="store_true", help="count, publish nothing")
    report = asyncio.run(_main(parser.parse_args(argv)))
    logger.info("replay done", extra={"bodies": report.bodies, "events": report.events,
                                      "by_topic": report.by_topic})  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
