"""The send path: one click stores one message with its command in one write, then publishes
it; checked first against the window, the media rules and the synced templates."""

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.inbox import MessageSent, MessageSentEvent
from hanout_shared.contracts.whatsapp import (
    ContactIdentity,
    Content,
    SendRequested,
    SendRequestedEvent,
    TemplateContent,
)
from hanout_shared.platform.auth import Principal
from hanout_shared.platform.errors import ApiError
from hanout_shared.platform.outbox import outbox_entries
from inbox.channels.templates import template_problem
from inbox.conversations.messages import (
    Message,
    Send,
    attempt_key,
    command_id,
    message_state,
    outbound_message_id,
)
from inbox.conversations.model import WINDOW_CLOSED, ConversationRow, LastMessage, window
from inbox.deps import InboxDeps, actor
from inbox.documents import Document
from inbox.sending.model import media_problem, outbound
from inbox.values import SOURCE, Person

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Chosen by the client per click: the same key sends one message only",
    ),
]


class SendOrder(BaseModel):
    """What one click asks to send, and what makes a repeated click the same send."""

    key: str
    fingerprint: str
    content: Content
    reply_to_message_id: str | None = None


def fingerprint(body: BaseModel) -> str:
    """What makes a repeated click the same send: its body, without the key."""
    return hashlib.sha256(body.model_dump_json(exclude={"client_id"}).encode()).hexdigest()


def send_commands(
    send: Send, row: ConversationRow, agent: Principal, content: Content
) -> list[Document]:
    """The command for ingest and the inbox event, stored with the send in one write (its
    outbox entries, in publishing order)."""
    message, cid = send.message, command_id(send.message.id, send.message.attempt)
    by = actor(agent)
    request = SendRequested(
        idempotency_key=send.send_key,
        conversation_key=row.conversation_key,
        phone_number_id=row.phone_number_id,
        recipient=ContactIdentity(wa_id=row.contact.wa_id, user_id=row.contact.user_id),
        content=content,
        reply_to_wamid=message.reply_to_wamid,
    )
    command = SendRequestedEvent.create(
        source=SOURCE,
        workspaceid=row.workspace_id,
        subject=row.conversation_key,
        data=request,
        id=cid,
        **by,
    )
    sent = MessageSent(
        message=message_state(message), idempotency_key=send.send_key, command_id=cid
    )
    event = MessageSentEvent.create(
        source=SOURCE,
        workspaceid=row.workspace_id,
        subject=row.id,
        data=sent,
        id=deterministic_id(cid, "sent"),
        **by,
    )
    return [
        *outbox_entries(topics.WHATSAPP_OUTBOUND, [command]),
        *outbox_entries(topics.INBOX_EVENTS, [event]),
    ]


def check_window(row: ConversationRow, content: Content) -> None:
    if (
        not isinstance(content, TemplateContent)
        and not window(row.last_inbound_at, datetime.now(UTC)).open
    ):
        raise ApiError(409, "window_closed", WINDOW_CLOSED)


async def _check(inbox: InboxDeps, row: ConversationRow, content: Content) -> None:
    """Refuse before anything reaches Meta: closed window, bad media, template mismatch."""
    check_window(row, content)
    if problem := media_problem(content):
        raise ApiError(422, "invalid_media", problem, [{"field": "content", "message": problem}])
    if isinstance(content, TemplateContent):
        synced = await inbox.store.templates.for_channel(row.workspace_id, row.phone_number_id)
        found = template_problem(content, synced.templates if synced else [])
        if found is not None:
            details = [{"field": "content", "message": found.message}]
            raise ApiError(422, found.code, found.message, details)


async def _reply_target(
    inbox: InboxDeps, row: ConversationRow, message_id: str | None
) -> str | None:
    if message_id is None:
        return None
    target = await inbox.store.messages.get(row.workspace_id, message_id)
    if target is None or target.conversation_id != row.id or not target.wamid:
        raise ApiError(
            422,
            "invalid_reply_target",
            "reply_to_message_id names no sent message of this conversation",
        )
    return target.wamid


async def _replay(inbox: InboxDeps, earlier: Send, fingerprint: str, response: Response) -> Message:
    """The same click again: the same message, and at most the same command re-published."""
    if earlier.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for another message",
        )
    response.status_code = 200
    await inbox.relay.publish(inbox.store.messages.outbox, earlier.message.id)
    return earlier.message


def client_key(header: str | None, body_key: str | None) -> str:
    if not (key := header or body_key):
        raise ApiError(
            422, "idempotency_key_required", "Send an Idempotency-Key header (or client_id)"
        )
    return key


async def replayed(
    inbox: InboxDeps, row: ConversationRow, key: str, fingerprint: str, response: Response
) -> Message | None:
    """The message this key sent already, if any (checked before any other work)."""
    message_id = outbound_message_id(row.workspace_id, row.id, key)
    earlier = await inbox.store.messages.get_send(row.workspace_id, message_id)
    return None if earlier is None else await _replay(inbox, earlier, fingerprint, response)


async def submit(
    inbox: InboxDeps, row: ConversationRow, agent: Principal, order: SendOrder, response: Response
) -> Message:
    """Store the send with its command in one write, then publish it: one message per key."""
    store, key = inbox.store, order.key
    if (sent := await replayed(inbox, row, key, order.fingerprint, response)) is not None:
        return sent
    await _check(inbox, row, order.content)
    message = outbound(
        message_id=outbound_message_id(row.workspace_id, row.id, key),
        conversation=row,
        content=order.content,
        reply_to_wamid=await _reply_target(inbox, row, order.reply_to_message_id),
        agent=Person(id=agent.agent_id, name=agent.name),
        client_key=key,
        at=datetime.now(UTC),
    )
    send = Send(message=message, send_key=attempt_key(message.id, 1), fingerprint=order.fingerprint)
    if not await store.messages.add_send(
        row.workspace_id, send, send_commands(send, row, agent, order.content)
    ):
        earlier = await store.messages.get_send(row.workspace_id, message.id)
        assert earlier is not None  # a concurrent click with the same key won the insert
        return await _replay(inbox, earlier, order.fingerprint, response)
    last = LastMessage(
        message_id=message.id,
        direction="outbound",
        type=message.type,
        preview=message.summary[:120],
        at=message.at,
    )
    await store.conversations.record_outbound(row.workspace_id, row.id, last)
    await inbox.relay.publish(store.messages.outbox, message.id)
    return message
