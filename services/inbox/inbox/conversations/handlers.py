"""Kafka side of conversations: customers' messages, delivery statuses and customer matches."""

from hanout_shared.contracts import topics
from hanout_shared.contracts.customers import (
    ContactMatchedEvent,
    CustomerMergedEvent,
    CustomersEvent,
    CustomerUpdatedEvent,
)
from hanout_shared.contracts.whatsapp import (
    InboundEvent,
    MessageAcceptedEvent,
    MessageFailedEvent,
    MessageReceivedEvent,
    StatusChangedEvent,
    StatusEvent,
)
from hanout_shared.platform.consuming import Consumers
from inbox.conversations import deliveries, intake, updates
from inbox.conversations.deliveries import StatusFact
from inbox.deps import InboxDeps
from inbox.kafka import BATCH_RECORDS, GROUP_SUFFIXES, publish_all, publish_events

CustomerFact = ContactMatchedEvent | CustomerUpdatedEvent | CustomerMergedEvent


def subscribe(consumers: Consumers[InboxDeps]) -> None:
    consumers.subscribe_batch(
        topics.WHATSAPP_INBOUND,
        InboundEvent,
        [MessageReceivedEvent],
        on_messages_received,
        group_suffix=GROUP_SUFFIXES[topics.WHATSAPP_INBOUND],
        max_records=BATCH_RECORDS,
    )
    consumers.subscribe_batch(
        topics.WHATSAPP_STATUS,
        StatusEvent,
        [MessageAcceptedEvent, StatusChangedEvent, MessageFailedEvent],
        on_statuses,
        group_suffix=GROUP_SUFFIXES[topics.WHATSAPP_STATUS],
        max_records=BATCH_RECORDS,
    )
    consumers.subscribe(
        topics.CUSTOMERS_EVENTS,
        CustomersEvent,
        [ContactMatchedEvent, CustomerUpdatedEvent, CustomerMergedEvent],
        on_customer_event,
        group_suffix=GROUP_SUFFIXES[topics.CUSTOMERS_EVENTS],
    )


async def on_messages_received(events: list[MessageReceivedEvent], deps: InboxDeps) -> None:
    await publish_all(await intake.receive_many(deps.store, events))


async def on_statuses(events: list[StatusFact], deps: InboxDeps) -> None:
    await publish_all(await deliveries.apply_many(deps.store, events))


async def on_customer_event(event: CustomerFact, deps: InboxDeps) -> None:
    if isinstance(event, ContactMatchedEvent):
        await publish_events(await updates.contact_matched(deps.store, event))
    else:
        await updates.customer_changed(deps.store, event)
