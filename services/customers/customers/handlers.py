"""Kafka side of customers: who each inbound contact is, and stats from order events."""

import asyncio
import logging
from typing import Annotated, Any, cast

from faststream.kafka import KafkaRouter
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from customers.events import SOURCE
from customers.matching import contact_identities, identity_key, outcome, wa_id_phone
from customers.model import ContactInfo, Customer, OrderRow, learn
from customers.outbox import OutboxRelay
from customers.store import Store, UnknownContact
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import (
    ContactMatched,
    ContactMatchedEvent,
    CustomersEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
    Identity,
)
from hanout_shared.contracts.envelope import CloudEvent, UnknownEvent
from hanout_shared.contracts.orders import OrdersEvent, OrderSummary
from hanout_shared.contracts.whatsapp import InboundEvent, MessageReceivedEvent
from hanout_shared.platform.kafka import Context, KafkaMessage, publish_event

LEARN_ATTEMPTS = 5
BATCH_RECORDS = 200
logger = logging.getLogger("hanout.customers")

router = KafkaRouter()
customer_events = router.publisher(
    topics.CUSTOMERS_EVENTS,
    title="customers.events.v1",
    description="customers.customer.created/updated/merged (key: customer id) and "
    "customers.contact.matched (key: conversation key)",
    schema=CustomersEvent,
)
_inbound: TypeAdapter[CloudEvent] = TypeAdapter(InboundEvent)
_orders: TypeAdapter[CloudEvent] = TypeAdapter(OrdersEvent)


def _read(
    adapter: TypeAdapter[CloudEvent], message: KafkaMessage, topic: str, poison: Counter
) -> list[CloudEvent]:
    """The batch's events; one that cannot be parsed is skipped, logged and counted, because
    retrying cannot fix it and it must not block the partition."""
    events = []
    for body in cast("list[bytes]", message.body):  # a batch subscriber: one body per record
        try:
            events.append(adapter.validate_json(body))
        except ValidationError as exc:
            _skipped(poison, topic, "invalid_event", str(exc), message.message_id)
    return events


def _skipped(poison: Counter, topic: str, reason: str, detail: str, ref: str) -> None:
    poison.labels(topic=topic, reason=reason).inc()
    logger.error(
        "skipped an unusable event", extra={"topic": topic, "reason": detail[:1000], "ref": ref}
    )


async def _records(message: StreamMessage[Any]) -> Any:
    """The batch's records untouched: `_read` parses each one. The broker's CloudEvents decoder
    expects a single record and raised on a batch, which NACK_ON_ERROR then redelivered forever;
    and one unreadable record must not fail the whole batch."""
    return message.body


# Batches: under a burst, one store round trip and one wait for Kafka's acks serve many events.
inbound = router.subscriber(
    topics.WHATSAPP_INBOUND,
    group_id="customers.inbound",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
    batch=True,
    max_records=BATCH_RECORDS,
    decoder=_records,
)
order_events = router.subscriber(
    topics.ORDERS_EVENTS,
    group_id="customers.orders",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
    batch=True,
    max_records=BATCH_RECORDS,
    decoder=_records,
)
StoreDep = Annotated[Store, Context("store")]
PoisonDep = Annotated[Counter, Context("poison_messages")]


def name_consumer_groups(group: str) -> None:
    """Group ids follow the `consumer_group` setting: a second deployment or a test run on the
    same broker needs groups of its own, or it would take this one's partitions."""
    inbound.group_id, order_events.group_id = f"{group}.inbound", f"{group}.orders"


@inbound
async def on_message_received(
    message: KafkaMessage,
    store: StoreDep,
    relay: Annotated[OutboxRelay, Context("relay")],
    poison: PoisonDep,
) -> None:
    received = [
        event
        for event in _read(_inbound, message, topics.WHATSAPP_INBOUND, poison)
        if isinstance(event, MessageReceivedEvent)
    ]
    contacts = [(event, contact_keys(event)) for event in received]
    wanted: dict[str, list[str]] = {}
    for event, (_, keys) in contacts:
        wanted.setdefault(event.workspaceid, []).extend(keys)
    # One query for the whole batch: a store round trip per message was what made a backlog
    # of other shops' messages take minutes to drain.
    cards = {c.customer_id: c for c in await store.customers.holding(wanted)}
    unknown: list[UnknownContact] = []
    learned: list[str] = []
    matched = [
        await match_contact(store, event, contact, cards, unknown, learned)
        for event, contact in contacts
    ]
    await store.keys.remember_contacts(unknown)
    if learned:
        await relay.publish(learned)  # if Kafka refuses, the sweep publishes them later
    # A match is published from here, not stored: if Kafka refuses, the message is redelivered
    # and matched again under the same event id. Sent in order, acknowledged together.
    await asyncio.gather(*(publish_event(customer_events, event) for event in matched))


@order_events
async def on_order_event(message: KafkaMessage, store: StoreDep, poison: PoisonDep) -> None:
    moved: dict[tuple[str, str], None] = {}
    for event in _read(_orders, message, topics.ORDERS_EVENTS, poison):
        summary = getattr(event.data, "order", None)
        if isinstance(event, UnknownEvent) or not isinstance(summary, OrderSummary):
            continue  # a newer order event type this build does not know: nothing to count yet
        try:
            row = OrderRow.of(summary)
        except ValidationError as exc:
            _skipped(poison, topics.ORDERS_EVENTS, "invalid_amount", str(exc), event.id)
            continue
        for customer_id in await store.orders.apply(event.workspaceid, row):
            moved[(event.workspaceid, customer_id)] = None
    for workspace_id, customer_id in moved:  # once per customer, however many of its orders
        await store.refresh_stats(workspace_id, customer_id)


def contact_keys(event: MessageReceivedEvent) -> tuple[list[Identity], list[str]]:
    identities = contact_identities(event.data.contact, event.data.channel.phone_number_id)
    return identities, [identity_key(i.kind, i.value, i.scope) for i in identities]


async def match_contact(
    store: Store,
    event: MessageReceivedEvent,
    contact: tuple[list[Identity], list[str]],
    cards: dict[str, Customer],
    unknown: list[UnknownContact],
    learned: list[str],
) -> ContactMatchedEvent:
    """Who wrote: one card (and what it did not know yet), none, or several to merge. `cards`
    holds the batch's candidates, kept current as they learn identities."""
    (identities, keys), message, workspace_id = contact, event.data, event.workspaceid
    wanted = set(keys)
    matches = sorted(
        (c for c in cards.values() if c.workspace_id == workspace_id and wanted & set(c.keys())),
        key=lambda c: c.customer_id,
    )
    kind = outcome(matches)
    phone = wa_id_phone(message.contact.wa_id)
    if kind == "known" and (changed := await _learn(store, matches[0], identities, event)):
        cards[changed.customer_id] = changed
        learned.append(changed.customer_id)
    elif kind == "unknown" and keys:
        info = ContactInfo(
            profile_name=message.contact.profile_name,
            phone_e164=phone,
            identities=identities,
            last_seen_at=message.sent_at,
        )
        unknown.append((workspace_id, keys, info))
    card_name = matches[0].name if kind == "known" else None
    data = ContactMatched(
        conversation_key=message.conversation_key,
        outcome=kind,
        customer_id=matches[0].customer_id if kind == "known" else None,
        candidate_ids=[c.customer_id for c in matches] if kind == "duplicates" else [],
        display_name=card_name or message.contact.profile_name,
        phone_e164=phone,
        identities=identities,
        **message.contact.model_dump(include={"wa_id", "user_id", "username", "profile_name"}),
    )
    return ContactMatchedEvent.create(
        source=SOURCE,
        workspaceid=workspace_id,
        subject=message.conversation_key,
        data=data,
        id=deterministic_id(event.id, "contact.matched"),
        time=event.time,
        correlationid=event.correlationid or event.id,
    )


async def _learn(
    store: Store, customer: Customer, identities: list[Identity], event: MessageReceivedEvent
) -> Customer | None:
    """The card with the identities it lacked, saved with its event; None if nothing to add."""
    for _ in range(LEARN_ATTEMPTS):
        learned = learn(customer, identities, event.time)
        if learned is None:
            return None
        data = CustomerUpdated(customer=learned.card(), changed_fields=["identities"])
        update = CustomerUpdatedEvent.create(
            source=SOURCE,
            workspaceid=learned.workspace_id,
            subject=learned.customer_id,
            data=data,
            id=deterministic_id(event.id, "learned", learned.customer_id, learned.version),
            correlationid=event.correlationid or event.id,
        )
        if await store.save(customer, learned, [update]):
            return learned
        fresh = await store.customers.get(customer.workspace_id, customer.customer_id)
        if fresh is None or fresh.merged_into:
            return None  # merged meanwhile: the survivor learns on the contact's next message
        customer = fresh
    raise RuntimeError(f"customer {customer.customer_id} kept changing while learning")
