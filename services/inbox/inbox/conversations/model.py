"""Conversations as the inbox shows them, the changes made to them, and the pure rules behind
them (the 24-hour window, the name shown)."""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.inbox import ConversationState
from hanout_shared.contracts.whatsapp import ContactIdentity
from inbox.values import Frozen, Person

WINDOW = timedelta(hours=24)
WINDOW_CLOSED = "This conversation is closed. Use a template to re-engage."
Filter = Literal["all", "unread", "mine", "no_reply"]


class Window(Frozen):
    open: bool
    expires_at: datetime | None = Field(description="WhatsApp time of the last inbound + 24 h")
    seconds_left: int
    banner: str | None = Field(description="What to show above the input when closed")


class CustomerLink(Frozen):
    outcome: Literal["known", "unknown", "duplicates"]
    customer_id: str | None = None
    candidate_ids: list[str] = []
    name: str | None = Field(default=None, description="The customer card's name, when known")
    matched_at: datetime | None = None
    version: int = 0


class LastMessage(Frozen):
    message_id: str | None
    direction: Literal["inbound", "outbound"]
    type: str
    preview: str
    at: datetime


class ConversationRow(Frozen):
    """A conversation as stored: one per (workspace, business number, contact)."""

    id: str
    workspace_id: str
    conversation_key: str
    phone_number_id: str
    display_phone_number: str | None = None
    contact: ContactIdentity = ContactIdentity()
    phone_e164: str | None = None
    customer: CustomerLink | None = None
    last_message: LastMessage | None = None
    last_activity_at: datetime | None = None
    last_inbound_at: datetime | None = None
    last_inbound_wamid: str | None = None
    last_outbound_at: datetime | None = None
    unread_count: int = 0
    awaiting_reply: bool = Field(default=False, description="The customer spoke last, unanswered")
    assignee: Person | None = None
    assigned_at: datetime | None = Field(default=None, description="When the assignee last changed")
    assigned_by: Person | None = Field(default=None, description="Who changed it")
    last_read_at: datetime | None = None
    last_read_by: Person | None = None
    read_receipt_wamid: str | None = None
    opened_at: datetime | None = None
    opened_by: str | None = Field(default=None, description="Event that opened or reopened it")
    reopened: bool = Field(default=False, description="Opened again after its window closed")


class Conversation(ConversationRow):
    display_name: str
    window: Window


class ConversationPage(Frozen):
    items: list[Conversation]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class FilterCounts(Frozen):
    all: int
    unread: int
    mine: int
    no_reply: int


class InboundChange(Frozen):
    """What one customer message does to its conversation (applied once per event id)."""

    event_id: str
    workspace_id: str
    conversation_id: str
    conversation_key: str
    phone_number_id: str
    display_phone_number: str | None
    contact: ContactIdentity
    phone_e164: str | None
    wamid: str
    at: datetime
    last: LastMessage | None
    counts_unread: bool
    opens_window: bool
    awaits_reply: bool


class InboundResult(Frozen):
    row: ConversationRow
    opened: bool = Field(description="This event created the conversation or reopened it")
    reopened: bool


class ReadMark(Frozen):
    at: datetime
    by: Person
    receipt_wamid: str | None


class Assignment(Frozen):
    conversation_id: str
    assignee: Person | None = Field(description="None leaves the conversation free")
    by: Person
    at: datetime


class ContactMatch(Frozen):
    """Who the customers service found behind a conversation. The row's own number stays the
    one ingest read from the contact; the card's number only makes the row findable by it."""

    workspace_id: str
    conversation_id: str
    conversation_key: str
    phone_number_id: str | None
    customer: CustomerLink
    customer_phone_e164: str | None
    names: list[str]


def conversation_id(key: str) -> str:
    """Stable per conversation key, so a returning contact reopens the same conversation."""
    return deterministic_id("conversation", key)


def window(last_inbound_at: datetime | None, now: datetime) -> Window:
    if last_inbound_at is None:
        return Window(open=False, expires_at=None, seconds_left=0, banner=WINDOW_CLOSED)
    expires_at = last_inbound_at + WINDOW
    left = max(0, int((expires_at - now).total_seconds()))
    is_open = expires_at > now
    banner = None if is_open else WINDOW_CLOSED
    return Window(open=is_open, expires_at=expires_at, seconds_left=left, banner=banner)


def reopens(previous_inbound_at: datetime | None, at: datetime) -> bool:
    """A message that arrives after the window had closed opens the conversation again."""
    return previous_inbound_at is not None and at >= previous_inbound_at + WINDOW


def display_name(row: ConversationRow) -> str:
    """The card's name, else the WhatsApp profile name, else the number, else the username."""
    card = row.customer.name if row.customer and row.customer.outcome == "known" else None
    contact = row.contact
    number = row.phone_e164 or (f"+{contact.wa_id}" if contact.wa_id else None)
    return card or contact.profile_name or number or contact.username or contact.user_id or "?"


def present(row: ConversationRow, now: datetime) -> Conversation:
    fields = row.model_dump()
    return Conversation(
        **fields, display_name=display_name(row), window=window(row.last_inbound_at, now)
    )


def state(row: ConversationRow) -> ConversationState:
    last = row.last_message
    return ConversationState(
        conversation_id=row.id,
        conversation_key=row.conversation_key,
        phone_number_id=row.phone_number_id,
        contact=row.contact,
        display_name=display_name(row),
        customer_id=row.customer.customer_id if row.customer else None,
        last_activity_at=row.last_activity_at,
        last_message_id=last.message_id if last else None,
        last_message_preview=last.preview if last else None,
        last_message_direction=last.direction if last else None,
        unread_count=row.unread_count,
        awaiting_reply=row.awaiting_reply,
        window_expires_at=row.last_inbound_at + WINDOW if row.last_inbound_at else None,
        assignee_id=row.assignee.id if row.assignee else None,
    )
