"""Customers' messages by the batch: each collection written about once per batch, and the very
events the one-by-one path (`updates.receive`) publishes, in the same order."""

from hanout_shared.contracts import CloudEvent
from hanout_shared.contracts.whatsapp import MessageReceivedEvent
from inbox.conversations import messages, updates
from inbox.conversations.messages import inbound_message_id
from inbox.conversations.model import conversation_id
from inbox.store import Store


def _effect(event: MessageReceivedEvent) -> messages.Inbound:
    data = event.data
    message_id = inbound_message_id(event.workspaceid, data.wamid)
    return messages.inbound(data, message_id, conversation_id(data.conversation_key))


async def _remember_channels(store: Store, events: list[MessageReceivedEvent]) -> None:
    channels = {
        (e.workspaceid, e.data.channel.phone_number_id, e.data.channel.display_phone_number)
        for e in events
    }
    for workspace_id, number, display in sorted(channels, key=str):
        await store.channels.remember(workspace_id, number, display)


async def _lead(
    store: Store, event: MessageReceivedEvent, effect: messages.Inbound
) -> list[CloudEvent]:
    """What a message announces before its conversation's events: itself, or what it changed
    (reactions and revocations are rare: they go one by one)."""
    data = event.data
    if data.reaction is not None:
        return await updates.react(store, event)
    if data.revoked_wamid:
        found = await store.messages.revoke(event.workspaceid, data.revoked_wamid)
        return updates.message_updated(event, found, "revoked")
    return [updates.received(event, effect.message)] if effect.message is not None else []


async def receive_many(store: Store, events: list[MessageReceivedEvent]) -> list[CloudEvent]:
    """A batch in offset order: timeline rows in one write, conversations in one read and one
    write (plus one for their counts), then each message's events as if applied alone."""
    events = list({event.id: event for event in reversed(events)}.values())[::-1]  # once each
    effects = [_effect(event) for event in events]
    await _remember_channels(store, events)
    await store.messages.add_inbound_many(
        [(e.workspaceid, f.message) for e, f in zip(events, effects, strict=True) if f.message]
    )
    leads = [await _lead(store, e, f) for e, f in zip(events, effects, strict=True)]
    changing = [i for i, effect in enumerate(effects) if effect.last is not None]
    changes = [
        updates.inbound_change(
            events[i], effects[i], conversation_id(events[i].data.conversation_key)
        )
        for i in changing
    ]
    results = dict(
        zip(changing, await store.conversations.record_inbound_many(changes), strict=True)
    )
    out: list[CloudEvent] = []
    for i, event in enumerate(events):
        out += leads[i]
        if i in results:
            out += updates.recorded(event, effects[i], results[i])
    return out
