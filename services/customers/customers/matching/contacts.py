"""Who wrote: each inbound contact matched against the cards (what a known card did not know yet
is learned), and the `customers.contact.matched` events that say so."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from customers.cards.model import Customer, learn
from customers.events import SOURCE, event_fields
from customers.matching.model import (
    ContactInfo,
    contact_identities,
    contact_phone,
    inbound_keys,
    outcome,
)
from customers.matching.store import UnknownContact
from customers.store import Store
from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.customers import (
    ContactMatched,
    ContactMatchedEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
    Identity,
)
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.contracts.whatsapp import MessageReceivedEvent
from hanout_shared.platform.auth import Principal

LEARN_ATTEMPTS = 5
Contact = tuple[list[Identity], list[str]]


@dataclass
class Learning:
    """A card learning identities from a batch's messages: as read, as it ends, the events of
    each step (one per message that taught it something, as one message at a time would)."""

    before: Customer
    after: Customer
    events: list[CloudEvent] = field(default_factory=list)
    taught: list[tuple[list[Identity], MessageReceivedEvent]] = field(default_factory=list)


async def match_batch(
    store: Store, received: Sequence[MessageReceivedEvent]
) -> tuple[list[ContactMatchedEvent], list[str]]:
    """The batch's matches, in order, and the cards that learned an identity (their events wait
    in their outbox). What WhatsApp told us of unknown contacts is kept for a later lookup."""
    contacts = [(event, contact_keys(event)) for event in received]
    wanted: dict[str, list[str]] = {}
    for event, (_, keys) in contacts:
        wanted.setdefault(event.workspaceid, []).extend(keys)
    # One query, one bulk write per collection for the whole batch: a store round trip per
    # message was what made a backlog of other shops' messages take minutes to drain.
    cards = {c.customer_id: c for c in await store.customers.holding(wanted)}
    unknown: list[UnknownContact] = []
    learning: dict[str, Learning] = {}
    matched = [
        match_contact(event, contact, cards, unknown, learning) for event, contact in contacts
    ]
    learned = await _save(store, list(learning.values()))
    await store.keys.remember_contacts(unknown)
    return matched, learned


def contact_keys(event: MessageReceivedEvent) -> Contact:
    contact = event.data.contact
    identities = contact_identities(contact, event.data.channel.phone_number_id)
    return identities, inbound_keys(identities, contact_phone(contact))


def match_contact(
    event: MessageReceivedEvent,
    contact: Contact,
    cards: dict[str, Customer],
    unknown: list[UnknownContact],
    learning: dict[str, Learning],
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
    phone = contact_phone(message.contact)
    if kind == "known" and (changed := learn(matches[0], identities, event.time)):
        cards[changed.customer_id] = changed
        step = learning.setdefault(changed.customer_id, Learning(matches[0], changed))
        step.after = changed
        step.events.append(_learned(changed, event))
        step.taught.append((identities, event))
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
        phone_number_id=message.channel.phone_number_id,
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


def _learned(learned: Customer, event: MessageReceivedEvent) -> CustomerUpdatedEvent:
    """The card's update for what one message taught it: its id from the message and the
    version, so a redelivered message announces nothing new."""
    data = CustomerUpdated(customer=learned.card(), changed_fields=["identities"])
    return CustomerUpdatedEvent.create(
        source=SOURCE,
        workspaceid=learned.workspace_id,
        subject=learned.customer_id,
        data=data,
        id=deterministic_id(event.id, "learned", learned.customer_id, learned.version),
        correlationid=event.correlationid or event.id,
    )


async def _save(store: Store, learning: list[Learning]) -> list[str]:
    """Every card that learned, in one bulk write per collection; a card changed meanwhile by
    someone else learns again from its fresh state, one message at a time. The cards that
    learned."""
    moved = await store.save_all([(c.before, c.after, c.events) for c in learning])
    moved_ids = {after.customer_id for _, after, _ in moved}
    learned = [c.after.customer_id for c in learning if c.after.customer_id not in moved_ids]
    for card in (c for c in learning if c.after.customer_id in moved_ids):
        for identities, event in card.taught:
            if changed := await _learn(store, card.before, identities, event):
                learned.append(changed.customer_id)
    return list(dict.fromkeys(learned))


async def _learn(
    store: Store, customer: Customer, identities: list[Identity], event: MessageReceivedEvent
) -> Customer | None:
    """The card, read again, with the identities it lacked, saved with its event; None if
    nothing to add."""
    for _ in range(LEARN_ATTEMPTS):
        fresh = await store.customers.get(customer.workspace_id, customer.customer_id)
        if fresh is None or fresh.merged_into:
            return None  # merged meanwhile: the survivor learns on the contact's next message
        learned = learn(fresh, identities, event.time)
        if learned is None:
            return None
        if await store.save(fresh, learned, [_learned(learned, event)]):
            return learned
    raise RuntimeError(f"customer {customer.customer_id} kept changing while learning")


def phone_number_id_of(conversation_key: str, workspace_id: str) -> str | None:
    """The business number of a conversation key (`workspace:phone_number_id:contact`), for a
    match an agent made: the only place customers reads it from a key rather than an event."""
    workspace, sep, rest = conversation_key.partition(":")
    number, sep_2, contact = rest.partition(":")
    return number if workspace == workspace_id and sep and sep_2 and number and contact else None


def matched(customer: Customer, conversation_key: str, agent: Principal) -> ContactMatchedEvent:
    """The conversation a card was created from now knows its customer."""
    data = ContactMatched(
        conversation_key=conversation_key,
        phone_number_id=phone_number_id_of(conversation_key, customer.workspace_id),
        outcome="known",
        customer_id=customer.customer_id,
        display_name=customer.name,
        phone_e164=customer.phones[0].e164 if customer.phones else None,
    )
    fields = {**event_fields(customer, agent), "subject": conversation_key}
    return ContactMatchedEvent.create(
        data=data, id=deterministic_id(customer.customer_id, conversation_key), **fields
    )
