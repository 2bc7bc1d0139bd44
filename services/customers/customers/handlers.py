"""Kafka side of customers: who each inbound contact is, and stats from order events."""

import asyncio
import logging
from typing import Annotated, cast

from faststream import Context
from faststream.kafka import KafkaMessage, KafkaRouter
from faststream.middlewares import AckPolicy
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from customers.matching import contact_identities, identity_key, outcome, wa_id_phone
from customers.model import ContactInfo, Customer, OrderRow, learn
from customers.store import Store, UnknownContact
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import (
    ContactMatched,
    ContactMatchedEvent,
    CustomersEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
)
from hanout_shared.contracts.envelope import CloudEvent, UnknownEvent
from hanout_shared.contracts.orders import OrdersEvent, OrderSummary
from hanout_shared.contracts.whatsapp import InboundEvent, MessageReceivedEvent
from hanout_shared.platform.kafka import publish_event

SOURCE = "hanout/customers"
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
            poison.labels(topic=topic, reason="invalid_event").inc()
            logger.error(
                "skipped an unreadable event",
                extra={"topic": topic, "reason": str(exc)[:1000], "batch": message.message_id},
            )
    return events


# Batches: under a burst, one store round trip and one wait for Kafka's acks serve many events.
@router.subscriber(
    topics.WHATSAPP_INBOUND,
    group_id="customers.inbound",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
    batch=True,
    max_records=BATCH_RECORDS,
)
async def on_message_received(
    message: KafkaMessage,
    store: Annotated[Store, Context("store")],
    poison: Annotated[Counter, Context("poison_messages")],
) -> None:
    unknown: list[UnknownContact] = []
    matched = [
        await match_contact(store, event, unknown)
        for event in _read(_inbound, message, topics.WHATSAPP_INBOUND, poison)
        if isinstance(event, MessageReceivedEvent)
    ]
    await store.keys.remember_contacts(unknown)
    # Sent in order (each send is queued before the next starts), acknowledged together.
    await asyncio.gather(*(publish_event(customer_events, event) for event in matched))


@router.subscriber(
    topics.ORDERS_EVENTS,
    group_id="customers.orders",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
    batch=True,
    max_records=BATCH_RECORDS,
)
async def on_order_event(
    message: KafkaMessage,
    store: Annotated[Store, Context("store")],
    poison: Annotated[Counter, Context("poison_messages")],
) -> None:
    moved: dict[tuple[str, str], None] = {}
    for event in _read(_orders, message, topics.ORDERS_EVENTS, poison):
        summary = getattr(event.data, "order", None)
        if isinstance(event, UnknownEvent) or not isinstance(summary, OrderSummary):
            continue  # a newer order event type this build does not know: nothing to count yet
        for customer_id in await store.orders.apply(event.workspaceid, OrderRow.of(summary)):
            moved[(event.workspaceid, customer_id)] = None
    for workspace_id, customer_id in moved:  # once per customer, however many of its orders
        await store.refresh_stats(workspace_id, customer_id)


async def match_contact(
    store: Store, event: MessageReceivedEvent, unknown: list[UnknownContact]
) -> ContactMatchedEvent:
    """Who wrote: one card (and what it did not know yet), none, or several to merge."""
    message, workspace_id = event.data, event.workspaceid
    identities = contact_identities(message.contact, message.channel.phone_number_id)
    keys = [identity_key(i.kind, i.value, i.scope) for i in identities]
    matches = await store.customers.find_by_keys(workspace_id, keys)
    kind = outcome(matches)
    phone = wa_id_phone(message.contact.wa_id)
    if kind == "known":
        await _learn(store, matches[0], event)
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


async def _learn(store: Store, customer: Customer, event: MessageReceivedEvent) -> None:
    identities = contact_identities(event.data.contact, event.data.channel.phone_number_id)
    for _ in range(LEARN_ATTEMPTS):
        learned = learn(customer, identities, event.time)
        if learned is None:
            return
        if await store.save(customer, learned):
            data = CustomerUpdated(customer=learned.card(), changed_fields=["identities"])
            update = CustomerUpdatedEvent.create(
                source=SOURCE,
                workspaceid=learned.workspace_id,
                subject=learned.customer_id,
                data=data,
                id=deterministic_id(event.id, "learned", learned.customer_id, learned.version),
                correlationid=event.correlationid or event.id,
            )
            await publish_event(customer_events, update)
            return
        fresh = await store.customers.get(customer.workspace_id, customer.customer_id)
        if fresh is None or fresh.merged_into:
            return  # merged meanwhile: the survivor learns on the contact's next message
        customer = fresh
    raise RuntimeError(f"customer {customer.customer_id} kept changing while learning")
