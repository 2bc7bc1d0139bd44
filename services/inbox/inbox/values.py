"""Values every inbox feature shares: people, store-precise times, page cursors and folded text
(pure)."""

import base64
import json
import unicodedata
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

SOURCE = "hanout/inbox"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Person(Frozen):
    id: str
    name: str


class Cursor(Frozen):
    at: datetime
    id: str


def to_ms(at: datetime) -> datetime:
    """The store keeps milliseconds: comparisons and cursors must too."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def fold(text: str) -> str:
    """Lower case without accents, so 'Fâtima' is found by 'fati'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def encode_cursor(at: datetime | None, item_id: str) -> str | None:
    if at is None:
        return None
    raw = json.dumps({"at": at.isoformat(), "id": item_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = Cursor.model_validate_json(raw)
    except (ValueError, ValidationError):
        return None
    return cursor if cursor.at.tzinfo is not None else None
