"""What the inbox's collections share: BSON-safe documents and newest-first timelines paged by a
cursor (the outbox is the platform's: `hanout_shared.platform.outbox`)."""

from decimal import Decimal
from typing import Any

from pymongo import DESCENDING

from inbox.values import Cursor

Document = dict[str, Any]
NEWEST = [("at", DESCENDING), ("_id", DESCENDING)]


def bson(value: Any) -> Any:
    """Decimals (catalog prices) as strings: exact, and read back by the Pydantic models."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: bson(item) for key, item in value.items()}
    if isinstance(value, list):
        return [bson(item) for item in value]
    return value


def older_than(where: Document, before: Cursor | None) -> Document:
    """`where`, narrowed to the entries a newest-first timeline shows after the cursor."""
    if before is not None:
        where["$or"] = [{"at": {"$lt": before.at}}, {"at": before.at, "_id": {"$lt": before.id}}]
    return where
