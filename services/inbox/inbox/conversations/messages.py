"""Messages of a conversation: readable content, delivery status and ids (pure)."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.inbox import MessageState
from hanout_shared.contracts.whatsapp import (
    CatalogOrder,
    Location,
    MessageContext,
    MessageReceived,
    MetaError,
    Referral,
    ReferredProduct,
    Reply,
    SharedContact,
    SystemNotice,
    TemplateContent,
)
from inbox.conversations.model import LastMessage
from inbox.values import Frozen, Person, to_ms

# Forward only: a status never moves down this list. `failed` sits below `delivered`, because
# Meta may report `failed` after `sent`, while a delivered message plainly did go.
STATUSES = ("pending", "accepted", "sent", "failed", "delivered", "read", "played")
RANK = {status: rank for rank, status in enumerate(STATUSES)}
FAILED = RANK["failed"]
SAFE_STATUS = re.compile(r"[a-z_]{1,32}")
PREVIEW_CHARS = 120
MEDIA_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Audio",
    "document": "Document",
    "sticker": "Sticker",
}


class Attachment(Frozen):
    kind: str
    media_id: str | None = None
    link: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    caption: str | None = None
    sha256: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class ReactionView(Frozen):
    emoji: str
    at: datetime


class Message(Frozen):
    """One entry of a conversation's timeline (notes will join it with their own `kind`)."""

    kind: Literal["message"] = "message"
    id: str
    conversation_id: str
    conversation_key: str
    direction: Literal["inbound", "outbound"]
    type: str = Field(description="WhatsApp's type: text, image, template, order, unknown, ...")
    at: datetime = Field(description="WhatsApp's timestamp (inbound) or when the agent sent it")
    wamid: str | None = None
    summary: str
    text: str | None = None
    attachments: list[Attachment] = []
    location: Location | None = None
    contacts: list[SharedContact] = []
    reply: Reply | None = Field(default=None, description="A tapped button, list row or Flow")
    order: CatalogOrder | None = None
    referral: Referral | None = Field(default=None, description="The ad that brought them")
    referred_product: ReferredProduct | None = None
    context: MessageContext | None = Field(default=None, description="The message replied to")
    system: SystemNotice | None = None
    original_type: str | None = None
    errors: list[MetaError] = []
    revoked: bool = False
    reactions: list[ReactionView] = []
    template: TemplateContent | None = None
    reply_to_wamid: str | None = None
    status: str | None = Field(default=None, description=" < ".join(STATUSES))
    status_times: dict[str, datetime] = {}
    error: MetaError | None = None
    failure_reason: str | None = None
    retryable: bool | None = None
    sent_by: Person | None = None
    attempt: int = 1
    client_key: str | None = Field(default=None, description="The Idempotency-Key of the send")


class MessagePage(Frozen):
    items: list[Message] = Field(description="Oldest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for older messages")


class Inbound(Frozen):
    """What one customer message does: a timeline row, a reaction, and the conversation's row."""

    message: Message | None
    last: LastMessage | None
    counts_unread: bool
    opens_window: bool
    awaits_reply: bool


class Tick(Frozen):
    status: str
    at: datetime
    error: MetaError | None = None


class StatusWrite(Frozen):
    """What a batch of statuses does to one message: written with forward-only operators."""

    message_id: str
    linked_wamid: str | None = None
    times: dict[str, datetime] = {}
    rank: int | None = None
    fields: dict[str, Any] = Field(default={}, description="error, failure_reason, retryable")


class Failure(Frozen):
    reason: str = Field(description="meta_error, outcome_unknown, invalid_command, ...")
    error: MetaError
    retryable: bool | None
    at: datetime


class Send(Frozen):
    """An agent's send as stored: the message, and what makes a repeated click the same send."""

    message: Message
    send_key: str
    fingerprint: str


def inbound_message_id(workspace_id: str, wamid: str) -> str:
    return deterministic_id(workspace_id, "message", wamid)


def outbound_message_id(workspace_id: str, conversation_id: str, client_key: str) -> str:
    return deterministic_id(workspace_id, conversation_id, "send", client_key)


def attempt_key(message_id: str, attempt: int) -> str:
    """The idempotency key ingest sees: a retry is a new send, never a replay of the failed one."""
    return message_id if attempt == 1 else deterministic_id(message_id, "attempt", attempt)


def command_id(message_id: str, attempt: int) -> str:
    return deterministic_id(message_id, "send_requested", attempt)


def tick(status: str, at: datetime, errors: list[MetaError]) -> Tick | None:
    """None for a status name that cannot be a field name (it keys the per-status times)."""
    if not SAFE_STATUS.fullmatch(status):
        return None
    return Tick(status=status, at=to_ms(at), error=errors[0] if errors else None)


def status_name(rank: int) -> str:
    return STATUSES[max(0, min(rank, len(STATUSES) - 1))]


def _labelled(label: str, detail: str | None) -> str:
    return f"{label}: {detail}" if detail else label


def _order_summary(order: CatalogOrder | None) -> str:
    items = order.items if order else []
    total = sum((i.item_price * i.quantity for i in items), Decimal(0))
    currencies = {i.currency for i in items}
    count = sum(i.quantity for i in items)
    amount = f", {total:.2f} {currencies.pop()}" if len(currencies) == 1 else ""
    return f"Order: {count} item{'s' if count != 1 else ''}{amount}"


def summary(data: MessageReceived) -> str:
    kind, media = data.message_type, data.media
    if kind == "text":
        return data.text or ""
    if kind in MEDIA_LABELS:
        label = "Voice message" if media and media.voice else MEDIA_LABELS[kind]
        detail = data.text or (media.filename if media else None)
        return _labelled(label, detail)
    if kind == "location":
        place = data.location
        return _labelled("Location", place.name or place.address if place else None)
    if kind == "contacts":
        names = ", ".join(c.formatted_name or "?" for c in data.contacts)
        return _labelled("Contact", names or None)
    if kind in ("interactive", "button"):
        return _labelled("Reply", data.reply.title if data.reply else data.text)
    if kind == "reaction":
        emoji = data.reaction.emoji if data.reaction else None
        return f"Reacted {emoji}" if emoji else "Removed a reaction"
    if kind == "order":
        return _order_summary(data.order)
    if kind == "system":
        return data.system.body if data.system and data.system.body else "System message"
    if kind == "request_welcome":
        return "Opened the chat"
    return f"Unsupported message ({data.original_type or kind})"


def _attachments(data: MessageReceived) -> list[Attachment]:
    if data.media is None:
        return []
    fields = data.media.model_dump(exclude={"id", "url"})
    return [Attachment(kind=data.message_type, media_id=data.media.id, **fields)]


def inbound(data: MessageReceived, message_id: str, conversation_id: str) -> Inbound:
    """Reactions attach to their target and revocations mark it: neither is a timeline row."""
    at, kind = to_ms(data.sent_at), data.message_type
    text = summary(data)
    last = LastMessage(
        message_id=message_id, direction="inbound", type=kind, preview=text[:PREVIEW_CHARS], at=at
    )
    if kind == "reaction" or data.revoked_wamid:
        added = kind == "reaction" and bool(data.reaction and data.reaction.emoji)
        last = last.model_copy(update={"message_id": None})
        return Inbound(
            message=None,
            last=last if added else None,
            counts_unread=added,
            opens_window=added,
            awaits_reply=False,
        )
    fields = data.model_dump(
        include={
            "wamid",
            "text",
            "location",
            "contacts",
            "reply",
            "order",
            "referral",
            "referred_product",
            "context",
            "system",
            "original_type",
            "errors",
        }
    )
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        conversation_key=data.conversation_key,
        direction="inbound",
        type=kind,
        at=at,
        summary=text,
        attachments=_attachments(data),
        **fields,
    )
    customer = kind != "system"  # WhatsApp's notices (number changed) are not the customer's words
    return Inbound(
        message=message,
        last=last,
        counts_unread=customer,
        opens_window=customer,
        awaits_reply=customer,
    )


def message_state(message: Message) -> MessageState:
    sent_by = message.sent_by
    return MessageState(
        message_id=message.id,
        conversation_id=message.conversation_id,
        conversation_key=message.conversation_key,
        direction=message.direction,
        message_type=message.type,
        summary=message.summary,
        at=message.at,
        wamid=message.wamid,
        status=message.status,
        status_at=message.status_times.get(message.status) if message.status else None,
        error=message.error,
        sent_by_id=sent_by.id if sent_by else None,
        sent_by_name=sent_by.name if sent_by else None,
        attempt=message.attempt,
        reactions=[r.emoji for r in message.reactions],
        revoked=message.revoked,
    )
