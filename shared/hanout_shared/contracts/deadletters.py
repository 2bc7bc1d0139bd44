"""<service>.deadletter.v1: the consumed records a service could not decode or validate."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union


class EventDeadLettered(Contract):
    reason: str = Field(description="undecodable (not JSON) or invalid_event (not the contract)")
    detail: str = Field(description="What was wrong, e.g. the validation errors")
    service: str = Field(description="The consuming service, e.g. inbox")
    group: str = Field(description="The consumer group that read it")
    topic: str
    partition: int
    offset: int
    key: str | None = Field(default=None, description="The record's key, as text")
    raw_text: str = Field(description="The record's body, as text (invalid bytes replaced)")
    received_at: datetime


class EventDeadLetteredEvent(CloudEvent):
    type: Literal["hanout.event.dead_lettered"] = "hanout.event.dead_lettered"
    dataschemaversion: Literal[1] = 1
    data: EventDeadLettered


DeadLettersEvent = event_union([EventDeadLetteredEvent])
