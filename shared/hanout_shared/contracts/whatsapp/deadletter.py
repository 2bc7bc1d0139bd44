"""whatsapp.deadletter.v1: what ingest could not turn into events, with the reason and the item."""

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union


class DeadLettered(Contract):
    reason: str = Field(description="unknown_channel, invalid_json, malformed_item, ...")
    detail: str | None = None
    original_topic: str | None = None
    phone_number_id: str | None = None
    raw: JsonValue = Field(default=None, description="The item that could not be handled")
    raw_text: str | None = Field(default=None, description="The body, when it was not JSON")
    received_at: datetime


class DeadLetteredEvent(CloudEvent):
    type: Literal["whatsapp.deadletter.recorded"] = "whatsapp.deadletter.recorded"
    dataschemaversion: Literal[1] = 1
    data: DeadLettered


DeadLetterEvent = event_union([DeadLetteredEvent])
