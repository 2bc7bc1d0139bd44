"""HTTP routes that send: a reply (text, media or template), and the retry of a failed one."""

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.inbox import MessageSent, MessageSentEvent
from hanout_shared.contracts.whatsapp import (
    ContactIdentity,
    Content,
    SendRequested,
    SendRequestedEvent,
    TemplateContent,
)
from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from inbox.api import Inbox, InboxDep, actor
from inbox.messages import (
    Message,
    Send,
    attempt_key,
    command_id,
    message_state,
    outbound_message_id,
)
from inbox.model import WINDOW_CLOSED, ConversationRow, LastMessage, OutboxItem, Person, window
from inbox.outgoing import content_of, media_problem, outbound, template_problem
from inbox.updates import SOURCE

router = APIRouter(tags=["messages"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (404, 409, 422, 503)
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Chosen by the client per click: the same key sends one message only",
    ),
]


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Content
    client_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The key, if no header is sent"
    )
    reply_to_message_id: str | None = Field(
        default=None, max_length=200, description="Quote this message"
    )


class SendOrder(BaseModel):
    """What one click asks to send, and what makes a repeated click the same send."""

    key: str
    fingerprint: str
    content: Content
    reply_to_message_id: str | None = None


def _fingerprint(body: SendMessage) -> str:
    return hashlib.sha256(body.model_dump_json(exclude={"client_id"}).encode()).hexdigest()


def _commands(
    send: Send, row: ConversationRow, agent: Principal, content: Content
) -> list[OutboxItem]:
    """The command for ingest and the inbox event, stored with the send in one write."""
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
        OutboxItem.of(topics.WHATSAPP_OUTBOUND, command),
        OutboxItem.of(topics.INBOX_EVENTS, event),
    ]


def check_window(row: ConversationRow, content: Content) -> None:
    if (
        not isinstance(content, TemplateContent)
        and not window(row.last_inbound_at, datetime.now(UTC)).open
    ):
        raise ApiError(409, "window_closed", WINDOW_CLOSED)


async def _check(inbox: Inbox, row: ConversationRow, content: Content) -> None:
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


async def _reply_target(inbox: Inbox, row: ConversationRow, message_id: str | None) -> str | None:
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


async def _replay(inbox: Inbox, earlier: Send, fingerprint: str, response: Response) -> Message:
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
    inbox: Inbox, row: ConversationRow, key: str, fingerprint: str, response: Response
) -> Message | None:
    """The message this key sent already, if any (checked before any other work)."""
    message_id = outbound_message_id(row.workspace_id, row.id, key)
    earlier = await inbox.store.messages.get_send(row.workspace_id, message_id)
    return None if earlier is None else await _replay(inbox, earlier, fingerprint, response)


async def submit(
    inbox: Inbox, row: ConversationRow, agent: Principal, order: SendOrder, response: Response
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
        row.workspace_id, send, _commands(send, row, agent, order.content)
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


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    summary="Send a message: text, media or template (free-form only inside the 24-hour window)",
    responses={200: {"description": "The same key was sent before: that message"}, **ERRORS},
)
async def send_message(
    conversation_id: str,
    body: SendMessage,
    agent: Agent,
    inbox: InboxDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Message:
    key = client_key(idempotency_key, body.client_id)
    row = await inbox.conversation(agent, conversation_id)
    order = SendOrder(
        key=key,
        fingerprint=_fingerprint(body),
        content=body.content,
        reply_to_message_id=body.reply_to_message_id,
    )
    return await submit(inbox, row, agent, order, response)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/retry",
    summary="Send a failed message again: a new attempt, one per click",
    responses=ERRORS,
)
async def retry_message(
    conversation_id: str, message_id: str, agent: Agent, inbox: InboxDep
) -> Message:
    row, store = await inbox.conversation(agent, conversation_id), inbox.store
    failed = await store.messages.get_send(row.workspace_id, message_id)
    if failed is None or failed.message.conversation_id != row.id:
        raise not_found("Message")
    message = failed.message
    if message.status == "pending":
        return message  # a retry (or the send itself) is already on its way
    if message.status != "failed":
        raise ApiError(
            409, "not_failed", f"Only a failed message can be retried; this one is {message.status}"
        )
    content = content_of(message)
    check_window(row, content)
    attempt, now = message.attempt + 1, datetime.now(UTC)
    retry = message.model_copy(update={"attempt": attempt, "status": "pending", "error": None})
    send = Send(
        message=retry, send_key=attempt_key(message.id, attempt), fingerprint=failed.fingerprint
    )
    started = await store.messages.start_retry(
        row.workspace_id, failed, send.send_key, now, _commands(send, row, agent, content)
    )
    if started is None:  # another click started this attempt first
        current = await store.messages.get(row.workspace_id, message.id)
        assert current is not None
        return current
    await inbox.relay.publish(store.messages.outbox, message.id)
    return started
