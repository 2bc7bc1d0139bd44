"""Kafka side of matching: every inbound message's contact matched, and the match published."""

import asyncio

from customers.deps import CustomersDeps
from customers.events import BATCH_RECORDS, customer_events
from customers.matching.contacts import match_batch
from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import InboundEvent, MessageReceivedEvent
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import publish_event

GROUP_SUFFIX = ".inbound"


def subscribe(consumers: Consumers[CustomersDeps]) -> None:
    consumers.subscribe_batch(
        topics.WHATSAPP_INBOUND,
        InboundEvent,
        [MessageReceivedEvent],
        on_message_received,
        group_suffix=GROUP_SUFFIX,
        max_records=BATCH_RECORDS,
    )


async def on_message_received(events: list[MessageReceivedEvent], deps: CustomersDeps) -> None:
    matched, learned = await match_batch(deps.store, events)
    if learned:
        await deps.publish(learned)  # if Kafka refuses, the relay's sweep publishes them later
    # A match is published from here, not stored: if Kafka refuses, the message is redelivered
    # and matched again under the same event id. Sent in order, acknowledged together.
    await asyncio.gather(*(publish_event(customer_events, event) for event in matched))
