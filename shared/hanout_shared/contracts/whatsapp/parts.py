"""What every WhatsApp event shares: the channel, the contact's identities, Meta's errors."""

from pydantic import Field

from hanout_shared.contracts.envelope import Contract

UNASSIGNED_WORKSPACE = "unassigned"
"""Workspace id of dead letters that could not be tied to a channel (bad body, unknown number)."""

RAW_WEBHOOK_TYPE = "whatsapp.webhook.received"
"""`ce_type` of the records on whatsapp.webhooks.raw.v1: CloudEvents binary mode, the value is the
webhook body byte for byte; `ce_time` is the receive time, `ce_hanoutappid` the Meta app whose
secret verified the signature."""


class Channel(Contract):
    """The business number a message arrived on or leaves from."""

    phone_number_id: str
    display_phone_number: str | None = None
    waba_id: str | None = None


class ContactIdentity(Contract):
    """Who the customer is on WhatsApp; any of the ids may be missing (BSUID-only users)."""

    wa_id: str | None = Field(default=None, description="Phone-based WhatsApp id, digits only")
    phone_e164: str | None = Field(
        default=None,
        description="The contact's number in E.164 as ingest read it from the wa_id; None when "
        "there is no wa_id or it is not a phone number",
    )
    user_id: str | None = Field(default=None, description="Business-scoped user id (BSUID)")
    username: str | None = None
    profile_name: str | None = None
    parent_user_id: str | None = Field(default=None, description="Parent BSUID, if enrolled")

    def contact_id(self) -> str:
        """wa_id when Meta gives one, else the BSUID (ARCHITECTURE.md §2)."""
        return self.wa_id or self.user_id or ""


def conversation_key(workspace_id: str, phone_number_id: str, contact_id: str) -> str:
    return f"{workspace_id}:{phone_number_id}:{contact_id}"


class MetaError(Contract):
    """An error as Meta reports it; branch on `code` only (titles change)."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None
