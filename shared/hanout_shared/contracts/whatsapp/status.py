"""whatsapp.status.v1 (key: conversation key): what became of the messages we send."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union
from hanout_shared.contracts.whatsapp.parts import Channel, ContactIdentity, MetaError


class Pricing(Contract):
    billable: bool | None = None
    pricing_model: str | None = None
    type: str | None = None
    category: str | None = None


class StatusChanged(Contract):
    """A tick of a message we sent; statuses may arrive out of order or twice."""

    conversation_key: str
    wamid: str
    channel: Channel
    contact: ContactIdentity
    status: str = Field(description="sent, delivered, read, played, failed, ... (open-ended)")
    status_at: datetime
    errors: list[MetaError] = []
    pricing: Pricing | None = None
    conversation_id: str | None = None
    conversation_origin: str | None = None
    conversation_expires_at: datetime | None = None
    biz_opaque_callback_data: str | None = Field(
        default=None, description="Echo of what we sent: our idempotency key"
    )


class MessageAccepted(Contract):
    conversation_key: str
    idempotency_key: str
    wamid: str
    channel: Channel
    contact: ContactIdentity
    accepted_at: datetime
    message_status: str | None = Field(default=None, description="Template pacing status")
    command_id: str | None = None


class MessageFailed(Contract):
    conversation_key: str
    idempotency_key: str
    channel: Channel
    reason: str = Field(description="meta_error, outcome_unknown, invalid_command, unknown_channel")
    error: MetaError
    retryable: bool = Field(description="Sending again with a new idempotency key may work")
    attempts: int
    failed_at: datetime
    command_id: str | None = None


class ChannelErrorReported(Contract):
    """A `value.errors[]` item: an account or app problem tied to no single message."""

    channel: Channel
    error: MetaError
    reported_at: datetime


class MessageAcceptedEvent(CloudEvent):
    type: Literal["whatsapp.message.accepted"] = "whatsapp.message.accepted"
    dataschemaversion: Literal[1] = 1
    data: MessageAccepted


class StatusChangedEvent(CloudEvent):
    type: Literal["whatsapp.message.status_changed"] = "whatsapp.message.status_changed"
    dataschemaversion: Literal[1] = 1
    data: StatusChanged


class MessageFailedEvent(CloudEvent):
    type: Literal["whatsapp.message.failed"] = "whatsapp.message.failed"
    dataschemaversion: Literal[1] = 1
    data: MessageFailed


class ChannelErrorReportedEvent(CloudEvent):
    type: Literal["whatsapp.channel.error_reported"] = "whatsapp.channel.error_reported"
    dataschemaversion: Literal[1] = 1
    data: ChannelErrorReported


StatusEvent = event_union(
    [MessageAcceptedEvent, StatusChangedEvent, MessageFailedEvent, ChannelErrorReportedEvent]
)
