"""What each consumed fact does to a conversation: stored once, and the inbox events that say so."""

import logging
from typing import Any

from hanout_shared.contracts import CloudEvent, deterministic_id
from hanout_shared.contracts.customers import (
    ContactMatchedEvent,
    CustomerMergedEvent,
    CustomerUpdatedEvent,
)
from hanout_shared.contracts.inbox import (
    ConversationOpened,
    ConversationOpenedEvent,
    ConversationUpdated,
    ConversationUpdatedEvent,
    InboxMessageReceived,
    InboxMessageReceivedEvent,
    MessageUpdated,
    MessageUpdatedEvent,
)
from hanout_shared.contracts.whatsapp import (
    MessageReceivedEvent,
)
from hanout_shared.platform.phones import wa_id_e164
from inbox.conversations import messages
from inbox.conversations.messages import Message, inbound_message_id, message_state
from inbox.conversations.model import (
    ContactMatch,
    ConversationRow,
    CustomerLink,
    InboundChange,
    InboundResult,
    conversation_id,
    state,
)
from inbox.conversations.search import search_names
from inbox.store import Store
from inbox.values import SOURCE, to_ms

logger = logging.getLogger("hanout.inbox")


def derived(kind: Any, cause: CloudEvent, subject: str, data: Any, name: str) -> CloudEvent:
    """Derived from the cause's id, so a redelivered cause publishes the very same event."""
    event: CloudEvent = kind.create(
        source=SOURCE,
        workspaceid=cause.workspaceid,
        subject=subject,
        data=data,
        id=deterministic_id(cause.id, name),
        time=cause.time,
        correlationid=cause.correlationid or cause.id,
    )
    return event


def message_updated(cause: CloudEvent, message: Message | None, reason: str) -> list[CloudEvent]:
    if message is None:
        return []
    data = MessageUpdated(message=message_state(message), reason=reason)
    return [derived(MessageUpdatedEvent, cause, message.conversation_id, data, "message.updated")]


def conversation_updated(cause: CloudEvent, row: ConversationRow, reason: str) -> CloudEvent:
    data = ConversationUpdated(conversation=state(row), reason=reason)
    return derived(ConversationUpdatedEvent, cause, row.id, data, "conversation.updated")


async def with_reactions(store: Store, workspace_id: str, found: list[Message]) -> list[Message]:
    wamids = [m.wamid for m in found if m.wamid]
    reactions = await store.reactions.for_wamids(workspace_id, wamids) if wamids else {}
    return [
        m.model_copy(update={"reactions": reactions.get(m.wamid, [])}) if m.wamid else m
        for m in found
    ]


async def react(store: Store, event: MessageReceivedEvent) -> list[CloudEvent]:
    data, ws = event.data, event.workspaceid
    reaction = data.reaction
    assert reaction is not None
    reactor = data.contact.contact_id()
    at = to_ms(data.sent_at)
    if not await store.reactions.react(ws, reaction.message_id, reactor, reaction.emoji, at):
        return []  # a later reaction of this customer is already shown
    target = await store.messages.by_wamid(ws, reaction.message_id)
    if target is None:
        return []  # reacted to a message not stored (yet): it shows the reaction once it is
    [shown] = await with_reactions(store, ws, [target])
    return message_updated(event, shown, "reaction")


def received(event: MessageReceivedEvent, message: Message) -> CloudEvent:
    data = InboxMessageReceived(message=message_state(message))
    return derived(InboxMessageReceivedEvent, event, message.conversation_id, data, "received")


async def _store_message(store: Store, event: MessageReceivedEvent, message: Message) -> CloudEvent:
    await store.messages.add_inbound(event.workspaceid, message)
    return received(event, message)


def inbound_change(
    event: MessageReceivedEvent, effect: messages.Inbound, conv_id: str
) -> InboundChange:
    data = event.data
    return InboundChange(
        event_id=event.id,
        workspace_id=event.workspaceid,
        conversation_id=conv_id,
        conversation_key=data.conversation_key,
        phone_number_id=data.channel.phone_number_id,
        display_phone_number=data.channel.display_phone_number,
        contact=data.contact,
        phone_e164=data.contact.phone_e164 or wa_id_e164(data.contact.wa_id),
        wamid=data.wamid,
        at=to_ms(data.sent_at),
        last=effect.last,
        counts_unread=effect.counts_unread,
        opens_window=effect.opens_window,
        awaits_reply=effect.awaits_reply,
    )


async def receive(store: Store, event: MessageReceivedEvent) -> list[CloudEvent]:
    """A customer's message: its timeline row (or its target's), then the conversation's row."""
    data, ws = event.data, event.workspaceid
    conv_id = conversation_id(data.conversation_key)
    effect = messages.inbound(data, inbound_message_id(ws, data.wamid), conv_id)
    await store.channels.remember(
        ws, data.channel.phone_number_id, data.channel.display_phone_number
    )
    out: list[CloudEvent] = []
    if data.reaction is not None:
        out += await react(store, event)
    elif data.revoked_wamid:
        out += message_updated(
            event, await store.messages.revoke(ws, data.revoked_wamid), "revoked"
        )
    elif effect.message is not None:
        out.append(await _store_message(store, event, effect.message))
    if effect.last is None:
        return out
    result = await store.conversations.record_inbound(inbound_change(event, effect, conv_id))
    return [*out, *recorded(event, effect, result)]


def recorded(
    event: MessageReceivedEvent, effect: messages.Inbound, result: InboundResult
) -> list[CloudEvent]:
    """What a message's conversation write announces: opened (or reopened), then updated."""
    out: list[CloudEvent] = []
    if result.opened:
        opened = ConversationOpened(
            conversation=state(result.row),
            message_id=effect.message.id if effect.message else None,
            reopened=result.reopened,
        )
        out.append(derived(ConversationOpenedEvent, event, result.row.id, opened, "opened"))
    return [*out, conversation_updated(event, result.row, "message_received")]


async def contact_matched(store: Store, event: ContactMatchedEvent) -> list[CloudEvent]:
    data = event.data
    known = data.outcome == "known"
    link = CustomerLink(
        outcome=data.outcome,
        customer_id=data.customer_id,
        candidate_ids=data.candidate_ids,
        name=data.display_name if known else None,
        matched_at=event.time,
    )
    match = ContactMatch(
        workspace_id=event.workspaceid,
        conversation_id=conversation_id(data.conversation_key),
        conversation_key=data.conversation_key,
        phone_number_id=data.phone_number_id,
        customer=link,
        customer_phone_e164=data.phone_e164,
        names=search_names(data.display_name, data.profile_name, data.username),
    )
    row = await store.conversations.apply_match(match)
    if row is None or row.last_activity_at is None:
        return []  # an older match, or the first message is not stored yet: it will show then
    return [conversation_updated(event, row, "contact_matched")]


async def customer_changed(store: Store, event: CloudEvent) -> None:
    ws = event.workspaceid
    if isinstance(event, CustomerUpdatedEvent):
        card = event.data.customer
        await store.conversations.rename_customer(ws, card.customer_id, card.name, card.version)
    elif isinstance(event, CustomerMergedEvent):
        merged = event.data
        absorbed = [cid for cid in merged.absorbed_ids if cid != merged.survivor_id]
        await store.conversations.repoint_customer(
            ws, absorbed, merged.survivor_id, merged.survivor.name
        )
