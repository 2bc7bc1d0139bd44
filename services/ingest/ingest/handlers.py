"""Kafka side of ingest: a publisher per topic it owns, and the outbound command consumer."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from faststream import Context
from faststream.kafka import KafkaRouter
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.contracts.whatsapp import RAW_WEBHOOK_TYPE
from hanout_shared.platform.kafka import publish_event
from ingest.meta import SOURCE, Outgoing
from ingest.sender import Sender

router = KafkaRouter()

raw_webhooks = router.publisher(
    topics.WEBHOOKS_RAW, description="Every accepted webhook body, byte for byte (binary mode)"
)
PUBLISHERS = {
    topic: router.publisher(topic)
    for topic in (
        topics.WHATSAPP_INBOUND,
        topics.WHATSAPP_STATUS,
        topics.WHATSAPP_OUTBOUND,
        topics.WHATSAPP_TEMPLATES,
        topics.WHATSAPP_DEADLETTER,
    )
}


@dataclass(frozen=True)
class RawWebhook:
    event_id: str
    body: bytes
    key: str
    received_at: datetime
    app_id: str

    def headers(self) -> dict[str, str]:
        """CloudEvents binary mode: attributes in `ce_` headers, the body untouched."""
        return {
            "content-type": "application/json",
            "ce_specversion": "1.0",
            "ce_id": self.event_id,
            "ce_type": RAW_WEBHOOK_TYPE,
            "ce_source": SOURCE,
            "ce_time": self.received_at.isoformat(),
            "ce_hanoutappid": self.app_id,
            "ce_hanoutsignature": "valid",
        }


async def _enqueue(outgoing: Outgoing) -> Any:
    event = outgoing.event
    return await PUBLISHERS[outgoing.topic].publish(
        event.model_dump_json(exclude_none=True).encode(),
        key=event.key(),
        correlation_id=event.correlationid or event.id,
        headers={"content-type": CONTENT_TYPE},
        no_confirm=True,
    )


def _observe(future: Any) -> None:
    """Once we gave up waiting, a late failure is expected: read it so asyncio does not warn."""
    if not future.cancelled():
        future.exception()


async def publish_durably(
    outgoing: Sequence[Outgoing], raw: RawWebhook | None, timeout_s: float
) -> None:
    """Hand every record to the producer in order, then wait until Kafka acknowledged them all.

    Enqueueing first and awaiting after lets one webhook's records share a produce request,
    while the idempotent producer keeps their order within a partition.
    """
    futures: list[Any] = []

    async def run() -> None:
        if raw is not None:
            futures.append(
                await raw_webhooks.publish(
                    raw.body,
                    key=raw.key.encode(),
                    headers=raw.headers(),
                    correlation_id=raw.event_id,
                    timestamp_ms=int(raw.received_at.timestamp() * 1000),
                    no_confirm=True,
                )
            )
        for item in outgoing:
            futures.append(await _enqueue(item))
        await asyncio.gather(*[f for f in futures if f is not None])

    try:
        await asyncio.wait_for(run(), timeout_s)
    finally:
        for future in futures:
            if future is not None:
                future.add_done_callback(_observe)


async def _raw_bytes(message: StreamMessage[Any]) -> bytes:
    """Commands are validated in the handler, so a broken one is dead-lettered, not looped on."""
    return message.body


async def on_outbound_command(body: bytes, sender: Annotated[Sender, Context("sender")]) -> None:
    for outgoing in await sender.handle(body):
        await publish_event(PUBLISHERS[outgoing.topic], outgoing.event)


def outbound_router(group_id: str) -> KafkaRouter:
    """The command consumer; its group is configuration, so separate deployments sharing one
    broker (test stacks) do not steal each other's commands. Replicas share one group."""
    consumer = KafkaRouter()
    consumer.subscriber(
        topics.WHATSAPP_OUTBOUND,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        decoder=_raw_bytes,
    )(on_outbound_command)
    return consumer
