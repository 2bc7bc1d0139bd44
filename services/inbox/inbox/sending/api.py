"""HTTP routes that send: a reply (text, media or template), and the retry of a failed one."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.contracts.whatsapp import Content
from hanout_shared.platform.auth import Agent
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from inbox.conversations.messages import Message, Send, attempt_key
from inbox.deps import InboxDep
from inbox.sending.model import content_of
from inbox.sending.send import (
    IdempotencyKey,
    SendOrder,
    check_window,
    client_key,
    fingerprint,
    send_commands,
    submit,
)

router = APIRouter(tags=["messages"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (404, 409, 422, 503)
}


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Content
    client_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The key, if no header is sent"
    )
    reply_to_message_id: str | None = Field(
        default=None, max_length=200, description="Quote this message"
    )


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
        fingerprint=fingerprint(body),
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
        row.workspace_id, failed, send.send_key, now, send_commands(send, row, agent, content)
    )
    if started is None:  # another click started this attempt first
        current = await store.messages.get(row.workspace_id, message.id)
        assert current is not None
        return current
    await inbox.relay.publish(store.messages.outbox, message.id)
    return started
