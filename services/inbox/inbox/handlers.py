"""Kafka side of the inbox: thin subscribers, the publishers, and the outbox relay."""

import asyncio
import contextlib
import logging
from typing import Annotated, Any

from faststream import Context
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.middlewares import AckPolicy
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from hanout_shared.contracts import CloudEvent, topics
from hanout_shared.contracts.customers import ContactMatchedEvent, CustomersEvent
from hanout_shared.contracts.inbox import InboxEvent
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
from hanout_shared.platform.kafka import publish_event
from inbox import updates
from inbox.store import Store
from inbox.store.documents import Outbox

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
inbound = router.subscriber(
    topics.WHATSAPP_INBOUND,
    group_id="inbox",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)
statuses = router.subscriber(
    topics.WHATSAPP_STATUS,
    group_id="inbox-status",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)
templates = router.subscriber(
    topics.WHATSAPP_TEMPLATES,
    group_id="inbox-templates",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)
customers = router.subscriber(
    topics.CUSTOMERS_EVENTS,
    group_id="inbox-customers",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)
GROUP_SUFFIXES = {
    inbound: "",
    statuses: "-status",
    templates: "-templates",
    customers: "-customers",
}
PUBLISHERS = {topics.INBOX_EVENTS: inbox_events, topics.WHATSAPP_OUTBOUND: outbound_commands}
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    topics.WHATSAPP_INBOUND: TypeAdapter(InboundEvent),
    topics.WHATSAPP_STATUS: TypeAdapter(StatusEvent),
    topics.WHATSAPP_TEMPLATES: TypeAdapter(TemplatesEvent),
    topics.CUSTOMERS_EVENTS: TypeAdapter(CustomersEvent),
    topics.INBOX_EVENTS: TypeAdapter(InboxEvent),
    topics.WHATSAPP_OUTBOUND: TypeAdapter(OutboundCommand),
}
StoreDep = Annotated[Store, Context("store")]
PoisonDep = Annotated[Counter, Context("poison_messages")]


def name_consumer_groups(group: str) -> None:
    """Group ids follow the `group` setting (default `inbox`): a second inbox deployment, or a
    test run, on the same broker needs groups of its own, or they would share the partitions."""
    for subscriber, suffix in GROUP_SUFFIXES.items():
        subscriber.group_id = group + suffix


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


class OutboxRelay:
    """Publishes what a request left in a document's outbox, and sweeps for leftovers."""

    def __init__(
        self, outboxes: list[Outbox], broker: KafkaBroker, *, interval_s: float, timeout_s: float
    ) -> None:
        self._outboxes, self._broker = outboxes, broker
        self._interval_s, self._timeout_s = interval_s, timeout_s
        self._task: asyncio.Task[None] | None = None

    async def publish(self, outbox: Outbox, doc_id: str) -> bool:
        """Publish one document's events; False (logged) when Kafka did not take them in time."""
        try:
            await asyncio.wait_for(self._drain(outbox, doc_id), self._timeout_s)
        except Exception:  # the events stay in the outbox: the sweep retries them
            logger.warning("events left in the outbox", extra={"doc_id": doc_id}, exc_info=True)
            return False
        return True

    async def _drain(self, outbox: Outbox, doc_id: str) -> None:
        published: list[str] = []
        try:
            for item in await outbox.pending(doc_id):
                event = ADAPTERS[item.topic].validate_python(item.body)
                await publish_event(PUBLISHERS[item.topic], event)
                published.append(item.event_id)
        finally:
            if published:
                await outbox.clear(doc_id, published)

    async def sweep(self, batch: int = 500) -> int:
        """Publish every leftover; how many documents still hold some."""
        stuck = 0
        for outbox in self._outboxes:
            for doc_id in await outbox.holders(batch):
                stuck += not await self.publish(outbox, doc_id)
        return stuck

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not await self._broker.ping(timeout=1.0):
            await asyncio.sleep(0.2)  # the lifespan starts the broker right after the hooks
        while True:
            try:
                await self.sweep()
            except Exception:  # a store outage: keep sweeping once it is back
                logger.warning("outbox sweep failed", exc_info=True)
            await asyncio.sleep(self._interval_s)
