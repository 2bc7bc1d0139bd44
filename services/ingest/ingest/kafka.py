"""Ingest's publishers: one per topic it writes, declared for the AsyncAPI document."""

from faststream.kafka import KafkaRouter

from hanout_shared.contracts import topics
from hanout_shared.platform.kafka import publish_event
from ingest.events import Outgoing

router = KafkaRouter()

# The webhook path writes these topics through ingest.webhooks.records (a plain producer);
# the outbound consumer and the template sync route publish with these publishers.
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


async def publish(outgoing: Outgoing) -> None:
    await publish_event(PUBLISHERS[outgoing.topic], outgoing.event)
