"""Kafka side of the inbox: thin subscribers and the publishers."""

import asyncio
import logging
import uuid
from typing import Annotated, Any

from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.middlewares import AckPolicy
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from hanout_shared.contracts import CloudEvent, deterministic_id, topics
from hanout_shared.contracts.customers import ContactMatchedEvent, CustomersEvent
from hanout_shared.contracts.inbox import (
    ActivityRecorded,
    ActivityRecordedEvent,
    ConversationAssignedEvent,
    InboxEvent,
)
from hanout_shared.contracts.orders import OrdersEvent
from hanout_shared.contracts.whatsapp import (
    InboundEvent,
    MessageAcceptedEvent,
    MessageFailedEvent,
    MessageReceivedEvent,
    OutboundCommand,
    StatusChangedEvent,
    StatusEvent,
    TemplatesEvent,
    TemplatesSyncedEvent,
)
from hanout_shared.platform.kafka import Context, KafkaMessage, publish_event
from inbox import updates
from inbox.live import Hub
from inbox.store import Store
from inbox.timeline import Activity, activity_state, assignment_activity, order_activity

logger = logging.getLogger("hanout.inbox")

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


def _durable(topic: str, group_id: str) -> DefaultSubscriber:
    """At-least-once, from the first offset for a new group: the inbox misses nothing."""
    return router.subscriber(
        topic, group_id=group_id, ack_policy=AckPolicy.NACK_ON_ERROR, auto_offset_reset="earliest"
    )


inbound = _durable(topics.WHATSAPP_INBOUND, "inbox")
statuses = _durable(topics.WHATSAPP_STATUS, "inbox-status")
templates = _durable(topics.WHATSAPP_TEMPLATES, "inbox-templates")
customers = _durable(topics.CUSTOMERS_EVENTS, "inbox-customers")
orders = _durable(topics.ORDERS_EVENTS, "inbox-orders")
activity = _durable(topics.INBOX_EVENTS, "inbox-activity")
# The live fan-out: every replica reads every event with a group of its own, from the end (its
# clients want what happens from now on; a resume older than that reloads instead). Nothing is
# committed: a restarted process is a new group, and a commit per event would cap the fan-out.
live = router.subscriber(
    topics.INBOX_EVENTS,
    group_id="inbox-live",
    ack_policy=AckPolicy.MANUAL,
    auto_offset_reset="latest",
)
GROUP_SUFFIXES = {
    inbound: "",
    statuses: "-status",
    templates: "-templates",
    customers: "-customers",
    orders: "-orders",
    activity: "-activity",
}
PUBLISHERS = {topics.INBOX_EVENTS: inbox_events, topics.WHATSAPP_OUTBOUND: outbound_commands}
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    topics.WHATSAPP_INBOUND: TypeAdapter(InboundEvent),
    topics.WHATSAPP_STATUS: TypeAdapter(StatusEvent),
    topics.WHATSAPP_TEMPLATES: TypeAdapter(TemplatesEvent),
    topics.CUSTOMERS_EVENTS: TypeAdapter(CustomersEvent),
    topics.INBOX_EVENTS: TypeAdapter(InboxEvent),
    topics.ORDERS_EVENTS: TypeAdapter(OrdersEvent),
    topics.WHATSAPP_OUTBOUND: TypeAdapter(OutboundCommand),
}
ASSIGNED = ConversationAssignedEvent.event_type().encode()
StoreDep = Annotated[Store, Context("store")]
PoisonDep = Annotated[Counter, Context("poison_messages")]
HubDep = Annotated[Hub, Context("hub")]


def durable_groups(group: str) -> dict[str, list[str]]:
    """The committed consumer groups an inbox named `group` uses, with their topics."""
    return {group + suffix: list(sub.topic_names) for sub, suffix in GROUP_SUFFIXES.items()}


def name_consumer_groups(group: str) -> None:
    """Group ids follow the `group` setting (default `inbox`): a second inbox deployment, or a
    test run, on the same broker needs groups of its own, or they would share the partitions."""
    for subscriber, suffix in GROUP_SUFFIXES.items():
        subscriber.group_id = group + suffix
    live.group_id = f"{group}-live-{uuid.uuid4().hex[:12]}"


def _read(message: KafkaMessage, topic: str, poison: Counter) -> CloudEvent | None:
    try:
        event: CloudEvent = ADAPTERS[topic].validate_json(message.body)
    except ValidationError as exc:
        # Retrying cannot fix a malformed event: count it, log why, and let the partition move on.
        poison.labels(topic=topic, reason="invalid_event").inc()
        logger.error(
            "skipped an unreadable event",
            extra={"topic": topic, "reason": str(exc)[:1000], "message_id": message.message_id},
        )
        return None
    return event


async def _publish(events: list[CloudEvent]) -> None:
    for event in events:
        await publish_event(inbox_events, event)


@inbound
async def on_message_received(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    event = _read(message, topics.WHATSAPP_INBOUND, poison)
    if isinstance(event, MessageReceivedEvent):
        await _publish(await updates.receive(store, event))


@statuses
async def on_status_event(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    event = _read(message, topics.WHATSAPP_STATUS, poison)
    if isinstance(event, MessageAcceptedEvent):
        await _publish(await updates.accept(store, event))
    elif isinstance(event, StatusChangedEvent):
        await _publish(await updates.change_status(store, event))
    elif isinstance(event, MessageFailedEvent):
        await _publish(await updates.fail(store, event))


@templates
async def on_templates_synced(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    event = _read(message, topics.WHATSAPP_TEMPLATES, poison)
    if isinstance(event, TemplatesSyncedEvent):
        await updates.templates_synced(store, event)


@customers
async def on_customer_event(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    event = _read(message, topics.CUSTOMERS_EVENTS, poison)
    if isinstance(event, ContactMatchedEvent):
        await _publish(await updates.contact_matched(store, event))
    elif event is not None:
        await updates.customer_changed(store, event)


async def _record(store: Store, cause: CloudEvent, entry: Activity) -> None:
    """Keep the line once, and announce it every time (same id): a redelivery is harmless."""
    await store.activity.record(cause.workspaceid, entry)
    recorded = ActivityRecordedEvent.create(
        source=updates.SOURCE,
        workspaceid=cause.workspaceid,
        subject=entry.conversation_id,
        data=ActivityRecorded(activity=activity_state(entry)),
        id=deterministic_id(entry.id, "recorded"),
        time=entry.at,
        actorid=entry.by.id if entry.by else None,
        actorname=entry.by.name if entry.by else None,
        correlationid=cause.correlationid or cause.id,
    )
    await publish_event(inbox_events, recorded)


@orders
async def on_order_event(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    event = _read(message, topics.ORDERS_EVENTS, poison)
    if event is not None and (entry := order_activity(event)) is not None:
        await _record(store, event, entry)


@activity
async def on_conversation_assigned(
    message: KafkaMessage, store: StoreDep, poison: PoisonDep
) -> None:
    if ASSIGNED not in message.body:
        return  # the trail wants assignments only: skip parsing the rest of the topic
    event = _read(message, topics.INBOX_EVENTS, poison)
    if isinstance(event, ConversationAssignedEvent):
        await _record(store, event, assignment_activity(event))


@live
async def on_live_event(message: KafkaMessage, hub: HubDep) -> None:
    record = message.raw_message
    assert not isinstance(record, tuple)  # one record per call: not a batch subscriber
    hub.receive(record.partition, record.offset, message.body)


async def live_assigned() -> dict[int, int]:
    """Once this replica's live consumer holds its partitions, where it stands on each: every
    event published from then on reaches its clients."""
    while (consumer := live.consumer) is None or not consumer.assignment():
        await asyncio.sleep(0.05)
    return {tp.partition: await consumer.position(tp) for tp in consumer.assignment()}
