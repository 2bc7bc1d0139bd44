"""The CloudEvents 1.0 envelope (structured JSON mode) shared by every event."""

import functools
import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag

from hanout_shared.contracts.ids import new_event_id

CONTENT_TYPE = "application/cloudevents+json"


class Contract(BaseModel):
    """Base of every payload: immutable, and tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class CloudEvent(Contract):
    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1, description="Producing service, e.g. hanout/ingest")
    type: str
    time: datetime = Field(description="When the fact happened (WhatsApp's timestamp if any)")
    subject: str | None = Field(default=None, description="The entity the event is about")
    datacontenttype: Literal["application/json"] = "application/json"
    workspaceid: str = Field(min_length=1)
    actorid: str | None = None
    actorname: str | None = None
    correlationid: str | None = None
    dataschemaversion: int = 1
    data: Any

    @classmethod
    def event_type(cls) -> str:
        """The `type` a subclass pins with a Literal default."""
        return str(cls.model_fields["type"].default)

    @classmethod
    def create(
        cls,
        *,
        source: str,
        workspaceid: str,
        data: Any,
        subject: str | None = None,
        id: str | None = None,
        time: datetime | None = None,
        actorid: str | None = None,
        actorname: str | None = None,
        correlationid: str | None = None,
    ) -> Self:
        return cls(
            id=id or new_event_id(),
            source=source,
            type=cls.event_type(),
            time=time or datetime.now(UTC),
            subject=subject,
            workspaceid=workspaceid,
            actorid=actorid,
            actorname=actorname,
            correlationid=correlationid,
            data=data,
        )

    def key(self) -> bytes:
        """Partition key: the subject, so one entity's events stay in order."""
        return (self.subject or self.id).encode()


class UnknownEvent(CloudEvent):
    """An event type this build does not know yet: kept as raw data, never an error."""

    data: JsonValue = None


def _type_tag(known: frozenset[str]) -> Any:
    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if kind in known else "unknown"

    return tag


def event_union(events: Sequence[type[CloudEvent]]) -> Any:
    """A discriminated union of a topic's events that maps unknown types to UnknownEvent."""
    members = [Annotated[event, Tag(event.event_type())] for event in events]
    members.append(Annotated[UnknownEvent, Tag("unknown")])
    known = frozenset(event.event_type() for event in events)
    return Annotated[functools.reduce(operator.or_, members), Discriminator(_type_tag(known))]
