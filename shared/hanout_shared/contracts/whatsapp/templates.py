"""whatsapp.templates.v1 (compacted, key: phone_number_id): a channel's approved templates."""

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union
from hanout_shared.contracts.whatsapp.parts import Channel


class TemplateButton(Contract):
    type: str
    text: str | None = None
    url: str | None = None
    phone_number: str | None = None


class TemplateSection(Contract):
    type: str = Field(description="HEADER, BODY, FOOTER or BUTTONS")
    format: str | None = Field(default=None, description="Header kind: TEXT, IMAGE, VIDEO, ...")
    text: str | None = None
    buttons: list[TemplateButton] = []
    example: JsonValue = None


class Template(Contract):
    id: str
    name: str
    language: str
    status: str
    category: str | None = None
    parameter_format: str | None = Field(default=None, description="POSITIONAL or NAMED")
    sections: list[TemplateSection] = []


class TemplatesSynced(Contract):
    channel: Channel
    templates: list[Template] = Field(description="Every approved template, all pages")
    synced_at: datetime
    reason: str


class TemplatesSyncedEvent(CloudEvent):
    type: Literal["whatsapp.templates.synced"] = "whatsapp.templates.synced"
    dataschemaversion: Literal[1] = 1
    data: TemplatesSynced


TemplatesEvent = event_union([TemplatesSyncedEvent])
