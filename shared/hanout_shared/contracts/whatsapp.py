"""WhatsApp events produced by ingest: Meta's facts in our own shape, never Meta's payload."""

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union


class Channel(Contract):
    """The business number a message arrived on or leaves from."""

    phone_number_id: str
    display_phone_number: str | None = None
    waba_id: str | None = None


class ContactIdentity(Contract):
    """Who the customer is on WhatsApp; any of the ids may be missing (BSUID-only users)."""

    wa_id: str | None = Field(default=None, description="Phone-based WhatsApp id, digits only")
    user_id: str | None = Field(default=None, description="Business-scoped user id (BSUID)")
    username: str | None = None
    profile_name: str | None = None

    def contact_id(self) -> str:
        """wa_id when Meta gives one, else the BSUID (ARCHITECTURE.md §2)."""
        return self.wa_id or self.user_id or ""


def conversation_key(workspace_id: str, phone_number_id: str, contact_id: str) -> str:
    return f"{workspace_id}:{phone_number_id}:{contact_id}"


class MessageReceived(Contract):
    conversation_key: str
    wamid: str
    channel: Channel
    contact: ContactIdentity
    message_type: str = Field(description="WhatsApp's type; open-ended, `unknown` if unrecognised")
    sent_at: datetime = Field(description="WhatsApp's own timestamp of the message")
    text: str | None = Field(default=None, description="Text body or caption, when any")
    raw: JsonValue = Field(default=None, description="The original message item, for replays")


class MessageReceivedEvent(CloudEvent):
    type: Literal["whatsapp.message.received"] = "whatsapp.message.received"
    dataschemaversion: Literal[1] = 1
    data: MessageReceived


InboundEvent = event_union([MessageReceivedEvent])
