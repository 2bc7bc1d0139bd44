"""Events waiting on their card: written with the change, removed once Kafka has them."""

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from hanout_shared.contracts.customers import CustomersEvent
from hanout_shared.contracts.envelope import CloudEvent

Document = dict[str, Any]
_events: TypeAdapter[CloudEvent] = TypeAdapter(CustomersEvent)


def outbox_entries(events: Sequence[CloudEvent]) -> list[Document]:
    """How a write stores its events on the card (the `outbox` array), in publishing order."""
    return [event.model_dump(mode="json", exclude_none=True) for event in events]


class Outbox:
    """The `outbox` arrays of the customers collection, read and emptied by the relay."""

    def __init__(self, customers: AsyncCollection[Document]) -> None:
        self._c = customers

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("outbox.id", ASCENDING)], sparse=True)

    async def pending(self, customer_ids: Sequence[str]) -> dict[str, list[CloudEvent]]:
        """Each card's events not yet published, oldest first; cards with none are left out."""
        query = {"_id": {"$in": list(customer_ids)}, "outbox.id": {"$exists": True}}
        cursor = self._c.find(query, {"outbox": 1})
        return {
            doc["_id"]: [_events.validate_python(e) for e in doc["outbox"]] async for doc in cursor
        }

    async def mark_published(self, customer_ids: Sequence[str], event_ids: Sequence[str]) -> None:
        """Remove these events only: one a later write added meanwhile stays pending. `$pullAll`
        of the exact entries, because FerretDB ignores a `$pull` condition on a field."""
        done = set(event_ids)
        query = {"_id": {"$in": list(customer_ids)}, "outbox.id": {"$in": list(done)}}
        ops = [
            UpdateOne({"_id": doc["_id"]}, {"$pullAll": {"outbox": sent}})
            async for doc in self._c.find(query, {"outbox": 1})
            if (sent := [entry for entry in doc["outbox"] if entry.get("id") in done])
        ]
        if ops:
            await self._c.bulk_write(ops, ordered=False)

    async def cards_with_pending(self, limit: int) -> list[str]:
        query = {"outbox.id": {"$exists": True}}
        return [doc["_id"] async for doc in self._c.find(query, {"_id": 1}).limit(limit)]
