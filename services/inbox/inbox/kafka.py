"""The inbox's Kafka names: its publishers, and the consumer groups its subscribers are built with.

Each feature subscribes through the platform's `Consumers` (its `handlers.py`); `app.py` builds
them with the configured group, so every name below follows the `consumer_group` setting.
"""

import asyncio

from faststream.kafka import KafkaRouter

from hanout_shared.contracts import CloudEvent, topics
from hanout_shared.contracts.inbox import InboxEvent
from hanout_shared.contracts.whatsapp import OutboundCommand
from hanout_shared.platform.kafka import publish_event

router = KafkaRouter()
inbox_events = router.publisher(
    topics.INBOX_EVENTS,
    title="inbox.events.v1",
    description="inbox.conversation.opened/updated/read, inbox.message.received/sent/updated "
    "(key: conversation id)",
    schema=InboxEvent,
)
outbound_commands = router.publisher(
    topics.WHATSAPP_OUTBOUND,
    title="whatsapp.outbound.v1",
    description="whatsapp.message.send_requested and whatsapp.message.mark_read for ingest "
    "(key: conversation key)",
    schema=OutboundCommand,
)
# Each consumed topic has one committed group: the inbox's group name with this suffix.
GROUP_SUFFIXES = {
    topics.WHATSAPP_INBOUND: "",
    topics.WHATSAPP_STATUS: "-status",
    topics.WHATSAPP_TEMPLATES: "-templates",
    topics.CUSTOMERS_EVENTS: "-customers",
    topics.ORDERS_EVENTS: "-orders",
    topics.INBOX_EVENTS: "-activity",
}
LIVE_SUFFIX = "-live"
# Records a batch consumer takes at once: under a burst one store round trip serves them all.
BATCH_RECORDS = 200


def durable_groups(group: str) -> dict[str, list[str]]:
    """The committed consumer groups an inbox named `group` uses, with their topics (devtools
    and the test stacks pre-commit them by name)."""
    return {group + suffix: [topic] for topic, suffix in GROUP_SUFFIXES.items()}


async def publish_events(events: list[CloudEvent]) -> None:
    for event in events:
        await publish_event(inbox_events, event)


async def publish_all(events: list[CloudEvent]) -> None:
    """Sent in order (a partition keeps it), acknowledged together: one wait for a batch."""
    await asyncio.gather(*(publish_event(inbox_events, event) for event in events))
