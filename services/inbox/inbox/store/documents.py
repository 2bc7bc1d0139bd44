"""What every inbox collection shares: BSON-safe documents and an embedded outbox."""

from decimal import Decimal
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from inbox.model import OutboxItem

Document = dict[str, Any]


def bson(value: Any) -> Any:
    """Decimals (catalog prices) as strings: exact, and read back by the Pydantic models."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: bson(item) for key, item in value.items()}
    if isinstance(value, list):
        return [bson(item) for item in value]
    return value


def outbox_entries(items: list[OutboxItem]) -> list[Document]:
    return [item.model_dump(mode="json") for item in items]


class Outbox:
    """Events written in the same document update as the change they announce.

    They are published right after the write and removed once Kafka took them; a crash or an
    outage in between leaves them here for the relay's sweep (at least once, never lost).
    """

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("outbox.event_id", sparse=True)

    async def pending(self, doc_id: str) -> list[OutboxItem]:
        doc = await self._collection.find_one({"_id": doc_id}, {"outbox": 1})
        return [OutboxItem.model_validate(item) for item in (doc or {}).get("outbox", [])]

    async def clear(self, doc_id: str, items: list[OutboxItem]) -> None:
        """Remove these entries, whole: `$pullAll` of exact values works on every store."""
        await self._collection.update_one(
            {"_id": doc_id}, {"$pullAll": {"outbox": outbox_entries(items)}}
        )

    async def holders(self, limit: int) -> list[str]:
        """Ids of documents that still have events to publish."""
        cursor = self._collection.find({"outbox.event_id": {"$exists": True}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor.limit(limit)]
