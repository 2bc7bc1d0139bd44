"""Inbox events on inbox.events.v1 (key: conversation id): what happened in the team's inbox."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union
from hanout_shared.contracts.orders import Stage
from hanout_shared.contracts.whatsapp import ContactIdentity, MetaError


class ConversationState(Contract):
    """A conversation as its list row shows it, after the change the event reports."""

    conversation_id: str
    conversation_key: str
    phone_number_id: str
    contact: ContactIdentity
    display_name: str
    customer_id: str | None = None
    last_activity_at: datetime | None = None
    last_message_id: str | None = None
    last_message_preview: str | None = None
    last_message_direction: str | None = Field(default=None, description="inbound or outbound")
    unread_count: int = 0
    awaiting_reply: bool = Field(default=False, description="The customer spoke last")
    window_expires_at: datetime | None = Field(
        default=None, description="WhatsApp time of the customer's last message + 24 h"
    )
    assignee_id: str | None = None


class MessageState(Contract):
    """A message of the timeline, after the change the event reports."""

    message_id: str
    conversation_id: str
    conversation_key: str
    direction: str = Field(description="inbound or outbound")
    message_type: str = Field(description="WhatsApp's type; open-ended")
    summary: str = Field(description="One readable line, e.g. 'Photo: the red one?'")
    at: datetime = Field(description="WhatsApp's timestamp (inbound) or when the agent sent it")
    wamid: str | None = None
    status: str | None = Field(
        default=None, description="pending, accepted, sent, failed, delivered, read, played"
    )
    status_at: datetime | None = None
    error: MetaError | None = None
    sent_by_id: str | None = None
    sent_by_name: str | None = None
    attempt: int = Field(default=1, description="Grows with every retry of a failed send")
    reactions: list[str] = Field(default=[], description="The customer's current reaction(s)")
    revoked: bool = False


class ConversationOpened(Contract):
    conversation: ConversationState
    message_id: str | None = Field(default=None, description="The message that opened it")
    reopened: bool = Field(
        description="The contact wrote again after the window had closed (same conversation)"
    )


class ConversationUpdated(Contract):
    conversation: ConversationState
    reason: str = Field(description="message_received, contact_matched, ... (open-ended)")


class ConversationRead(Contract):
    conversation_id: str
    conversation_key: str
    read_at: datetime
    unread_before: int
    receipt_wamid: str | None = Field(
        default=None, description="Set when Meta is told (blue ticks) up to this message"
    )


class InboxMessageReceived(Contract):
    message: MessageState


class MessageSent(Contract):
    """An agent's send, stored as pending; ingest is asked to carry it out."""

    message: MessageState
    idempotency_key: str = Field(description="The key of this attempt on whatsapp.outbound.v1")
    command_id: str = Field(description="Id of the whatsapp.message.send_requested command")


class MessageUpdated(Contract):
    message: MessageState
    reason: str = Field(description="status, failed, reaction, revoked, ... (open-ended)")


class ConversationAssigned(Contract):
    """Who the conversation is assigned to now (None: left free), and who it was before."""

    conversation: ConversationState
    assignee_id: str | None = None
    assignee_name: str | None = None
    previous_assignee_id: str | None = None
    previous_assignee_name: str | None = None
    assigned_at: datetime


class NoteState(Contract):
    """An internal note: visible to the whole team, never sent to the customer."""

    note_id: str
    conversation_id: str
    conversation_key: str
    author_id: str
    author_name: str
    body: str
    at: datetime = Field(description="When it was added")
    edited_at: datetime | None = None


class NoteAdded(Contract):
    note: NoteState


class NoteEdited(Contract):
    note: NoteState


class NoteDeleted(Contract):
    note_id: str
    conversation_id: str
    conversation_key: str
    deleted_at: datetime


class PresenceChanged(Contract):
    """An agent's heartbeat: viewing or composing until `expires_at`, unless renewed; `left`
    ends it at once. Ephemeral: consumers drop it once expired."""

    conversation_id: str
    agent_id: str
    agent_name: str
    state: str = Field(description="viewing, composing or left (open-ended)")
    expires_at: datetime


class ActivityOrder(Contract):
    order_id: str
    label: str = Field(description="Human order number, e.g. #1042")
    total: Decimal
    currency: str = "MAD"


class ActivityState(Contract):
    """One line of a conversation's activity trail: who did what, and when."""

    activity_id: str
    conversation_id: str
    conversation_key: str
    action: str = Field(
        description="assigned, unassigned, order_created, order_stage_changed, order_cancelled "
        "(open-ended)"
    )
    at: datetime
    actor_id: str | None = None
    actor_name: str | None = None
    summary: str = Field(description="One readable line, e.g. 'moved order #1042 to Confirmed'")
    assignee_id: str | None = None
    assignee_name: str | None = None
    order: ActivityOrder | None = None
    stage: Stage | None = Field(default=None, description="The order's stage after the action")
    from_stage: Stage | None = None


class ActivityRecorded(Contract):
    activity: ActivityState


class ConversationOpenedEvent(CloudEvent):
    type: Literal["inbox.conversation.opened"] = "inbox.conversation.opened"
    dataschemaversion: Literal[1] = 1
    data: ConversationOpened


class ConversationUpdatedEvent(CloudEvent):
    type: Literal["inbox.conversation.updated"] = "inbox.conversation.updated"
    dataschemaversion: Literal[1] = 1
    data: ConversationUpdated


class ConversationReadEvent(CloudEvent):
    type: Literal["inbox.conversation.read"] = "inbox.conversation.read"
    dataschemaversion: Literal[1] = 1
    data: ConversationRead


class InboxMessageReceivedEvent(CloudEvent):
    type: Literal["inbox.message.received"] = "inbox.message.received"
    dataschemaversion: Literal[1] = 1
    data: InboxMessageReceived


class MessageSentEvent(CloudEvent):
    type: Literal["inbox.message.sent"] = "inbox.message.sent"
    dataschemaversion: Literal[1] = 1
    data: MessageSent


class MessageUpdatedEvent(CloudEvent):
    type: Literal["inbox.message.updated"] = "inbox.message.updated"
    dataschemaversion: Literal[1] = 1
    data: MessageUpdated


class ConversationAssignedEvent(CloudEvent):
    type: Literal["inbox.conversation.assigned"] = "inbox.conversation.assigned"
    dataschemaversion: Literal[1] = 1
    data: ConversationAssigned


class NoteAddedEvent(CloudEvent):
    type: Literal["inbox.note.added"] = "inbox.note.added"
    dataschemaversion: Literal[1] = 1
    data: NoteAdded


class NoteEditedEvent(CloudEvent):
    type: Literal["inbox.note.edited"] = "inbox.note.edited"
    dataschemaversion: Literal[1] = 1
    data: NoteEdited


class NoteDeletedEvent(CloudEvent):
    type: Literal["inbox.note.deleted"] = "inbox.note.deleted"
    dataschemaversion: Literal[1] = 1
    data: NoteDeleted


class PresenceChangedEvent(CloudEvent):
    type: Literal["inbox.presence.changed"] = "inbox.presence.changed"
    dataschemaversion: Literal[1] = 1
    data: PresenceChanged


class ActivityRecordedEvent(CloudEvent):
    type: Literal["inbox.activity.recorded"] = "inbox.activity.recorded"
    dataschemaversion: Literal[1] = 1
    data: ActivityRecorded


InboxEvent = event_union(
    [
        ConversationOpenedEvent,
        ConversationUpdatedEvent,
        ConversationReadEvent,
        InboxMessageReceivedEvent,
        MessageSentEvent,
        MessageUpdatedEvent,
        ConversationAssignedEvent,
        NoteAddedEvent,
        NoteEditedEvent,
        NoteDeletedEvent,
        PresenceChangedEvent,
        ActivityRecordedEvent,
    ]
)
