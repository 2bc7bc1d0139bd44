"""What ingest publishes is made of: our source, an event with its topic, the dead letter (pure)."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hanout_shared.contracts import CloudEvent, topics
from hanout_shared.contracts.whatsapp import UNASSIGNED_WORKSPACE, DeadLettered, DeadLetteredEvent

SOURCE = "hanout/ingest"
DEAD_LETTER_TEXT_LIMIT = 256 * 1024  # the dead-letter topic keeps Kafka's default 1 MB records


@dataclass(frozen=True)
class Outgoing:
    topic: str
    event: CloudEvent


def dead_letter(
    received_at: datetime, reason: str, event_id: str, workspace_id: str | None = None, **data: Any
) -> Outgoing:
    """`data`: the optional fields of DeadLettered (raw, raw_text, detail, original_topic, ...)."""
    data.setdefault("original_topic", topics.WEBHOOKS_RAW)
    try:
        letter = DeadLettered(reason=reason, received_at=received_at, **data)
    except ValidationError:  # e.g. an item nested deeper than JSON values are validated
        data["raw_text"] = _as_text(data.pop("raw", None))
        data.setdefault("detail", "the item is nested too deeply to keep as JSON")
        letter = DeadLettered(reason=reason, received_at=received_at, **data)
    event = DeadLetteredEvent.create(
        source=SOURCE,
        workspaceid=workspace_id or UNASSIGNED_WORKSPACE,
        data=letter,
        id=event_id,
        time=received_at,
    )
    return Outgoing(topics.WHATSAPP_DEADLETTER, event)


def _as_text(raw: Any) -> str:
    try:
        return json.dumps(raw, separators=(",", ":"))[:DEAD_LETTER_TEXT_LIMIT]
    except (ValueError, RecursionError):
        return "<too deeply nested to serialise>"
