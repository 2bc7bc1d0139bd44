"""whatsapp.inbound.v1 (key: conversation key): every message a customer sends, never dropped."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, JsonValue

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union
from hanout_shared.contracts.whatsapp.parts import Channel, ContactIdentity, MetaError


class Media(Contract):
    id: str | None = Field(default=None, description="Meta media id (webhook ids live 7 days)")
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None
    voice: bool | None = Field(default=None, description="Audio recorded as a voice note")
    animated: bool | None = Field(default=None, description="Animated sticker")
    url: str | None = Field(default=None, description="Short-lived download URL, if Meta sent it")


class Location(Contract):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class SharedPhone(Contract):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class SharedContact(Contract):
    """A contact card the customer shared."""

    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phones: list[SharedPhone] = []
    emails: list[str] = []
    company: str | None = None
    urls: list[str] = []
    birthday: str | None = None
    vcard: str | None = None


class Reply(Contract):
    """A tap on a button or list row, or a completed Flow."""

    kind: str = Field(description="button_reply, list_reply, nfm_reply, template_button, ...")
    id: str | None = Field(default=None, description="Button/row id, or a template's payload")
    title: str | None = None
    description: str | None = None
    response_json: str | None = Field(default=None, description="Flow answers, a JSON string")
    flow_name: str | None = None


class Reaction(Contract):
    message_id: str = Field(description="wamid of the message reacted to")
    emoji: str | None = Field(default=None, description="None when the reaction was removed")
    removed: bool = False


class OrderItem(Contract):
    product_retailer_id: str
    quantity: int
    item_price: Decimal
    currency: str


class CatalogOrder(Contract):
    catalog_id: str | None = None
    text: str | None = None
    items: list[OrderItem] = []


class Referral(Contract):
    """Where a Click-to-WhatsApp ad (or a post) brought the customer from."""

    source_type: str | None = None
    source_id: str | None = None
    source_url: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None
    welcome_message: str | None = None


class ReferredProduct(Contract):
    catalog_id: str | None = None
    product_retailer_id: str | None = None


class MessageContext(Contract):
    replied_to_wamid: str | None = Field(default=None, description="The quoted/tapped message")
    replied_to_from: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


class SystemNotice(Contract):
    body: str | None = None
    type: str | None = Field(default=None, description="e.g. user_changed_number")
    new_wa_id: str | None = None


class MessageReceived(Contract):
    conversation_key: str
    wamid: str
    channel: Channel
    contact: ContactIdentity
    message_type: str = Field(description="WhatsApp's type; open-ended, `unknown` if unrecognised")
    sent_at: datetime = Field(description="WhatsApp's own timestamp of the message")
    text: str | None = Field(default=None, description="Text body or caption, when any")
    raw: JsonValue = Field(default=None, description="The original item, for unknown types")
    original_type: str | None = Field(default=None, description="Meta's type when not ours")
    media: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] = []
    reply: Reply | None = None
    reaction: Reaction | None = None
    order: CatalogOrder | None = None
    referral: Referral | None = None
    referred_product: ReferredProduct | None = None
    context: MessageContext | None = None
    system: SystemNotice | None = None
    revoked_wamid: str | None = Field(default=None, description="Deleted message (coexistence)")
    errors: list[MetaError] = []


class MessageReceivedEvent(CloudEvent):
    type: Literal["whatsapp.message.received"] = "whatsapp.message.received"
    dataschemaversion: Literal[1] = 1
    data: MessageReceived


InboundEvent = event_union([MessageReceivedEvent])
