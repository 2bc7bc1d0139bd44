"""whatsapp.outbound.v1 (key: conversation key): commands for ingest to carry out on Meta."""

from typing import Annotated, Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union
from hanout_shared.contracts.whatsapp.parts import ContactIdentity


class TemplateParameter(Contract):
    type: str = Field(
        description="text, currency, date_time, image, video, document, payload, coupon_code"
    )
    text: str | None = Field(default=None, description="The text, or the code of a coupon_code")
    parameter_name: str | None = Field(default=None, description="For named templates")
    payload: str | None = None
    media_id: str | None = None
    link: str | None = None
    filename: str | None = None
    currency_code: str | None = None
    amount_1000: int | None = None
    fallback_value: str | None = None


class TemplateComponent(Contract):
    type: str = Field(description="header, body or button")
    sub_type: str | None = Field(default=None, description="quick_reply, url, copy_code, ...")
    index: int | None = None
    parameters: list[TemplateParameter] = []


class TextContent(Contract):
    kind: Literal["text"] = "text"
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class MediaContent(Contract):
    kind: Literal["image", "video", "audio", "document", "sticker"]
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class TemplateContent(Contract):
    kind: Literal["template"] = "template"
    name: str
    language: str
    components: list[TemplateComponent] = []


Content = Annotated[TextContent | MediaContent | TemplateContent, Field(discriminator="kind")]


class SendRequested(Contract):
    idempotency_key: str = Field(min_length=1, max_length=200)
    conversation_key: str
    phone_number_id: str
    recipient: ContactIdentity = Field(description="wa_id, else user_id (BSUID) is addressed")
    content: Content
    reply_to_wamid: str | None = None


class MarkReadRequested(Contract):
    conversation_key: str
    phone_number_id: str
    wamid: str
    typing_indicator: bool = False


class TemplatesSyncRequested(Contract):
    phone_number_id: str
    reason: str = Field(description="template_status_webhook, on_demand, ...")


class SendRequestedEvent(CloudEvent):
    type: Literal["whatsapp.message.send_requested"] = "whatsapp.message.send_requested"
    dataschemaversion: Literal[1] = 1
    data: SendRequested


class MarkReadRequestedEvent(CloudEvent):
    type: Literal["whatsapp.message.mark_read"] = "whatsapp.message.mark_read"
    dataschemaversion: Literal[1] = 1
    data: MarkReadRequested


class TemplatesSyncRequestedEvent(CloudEvent):
    type: Literal["whatsapp.templates.sync_requested"] = "whatsapp.templates.sync_requested"
    dataschemaversion: Literal[1] = 1
    data: TemplatesSyncRequested


OutboundCommand = event_union(
    [SendRequestedEvent, MarkReadRequestedEvent, TemplatesSyncRequestedEvent]
)
