"""Kafka side of ingest: a publisher per topic it owns, and the outbound command consumer."""

from typing import Annotated, Any

from faststream.kafka import KafkaRouter
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from hanout_shared.contracts import topics
from hanout_shared.platform.kafka import Context, publish_event
from ingest.sender import Sender

router = KafkaRouter()

# Declared for the AsyncAPI document: the webhook path writes these topics through
# ingest.records (a plain producer); the outbound consumer publishes with these publishers.
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
