"""The key index: per key, the cards holding it (duplicates) and what WhatsApp told us about a
contact no card holds yet."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from customers.matching.model import ContactInfo

Document = dict[str, Any]
Collection = AsyncCollection[Document]
KeyChange = tuple[str, Sequence[str], Sequence[str]]
UnknownContact = tuple[str, Sequence[str], ContactInfo]
_EPOCH = datetime.min.replace(tzinfo=UTC)


class KeyIndex:
    """Per key: the customers holding it (2+ is a duplicate group) and, for a key no card holds
    yet, what WhatsApp told us about the contact (for the panel's "unknown customer")."""

    def __init__(self, collection: Collection) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("workspace_id", ASCENDING), ("size", ASCENDING)])

    @staticmethod
    def _claim(workspace_id: str, key: str, extra: Document | None = None) -> UpdateOne:
        fresh = {"workspace_id": workspace_id, "key": key, "customer_ids": [], "size": 0}
        update: Document = {"$setOnInsert": fresh} | ({"$set": extra} if extra else {})
        return UpdateOne({"_id": f"{workspace_id}|{key}"}, update, upsert=True)

    async def sync(self, workspace_id: str, changes: Iterable[KeyChange]) -> None:
        """For each (customer, old keys, new keys): claim the new keys, release the dropped ones.
        Every step is a conditional single-document update, so replaying it changes nothing."""
        await self.sync_all({workspace_id: changes})

    async def sync_all(self, changes: Mapping[str, Iterable[KeyChange]]) -> None:
        """`sync` for the changes of several workspaces, in one bulk write."""
        ops = [op for ws, of_ws in changes.items() for op in self._sync_ops(ws, of_ws)]
        if ops:
            await self._c.bulk_write(ops, ordered=True)

    def _sync_ops(self, workspace_id: str, changes: Iterable[KeyChange]) -> list[UpdateOne]:
        ops: list[UpdateOne] = []
        for customer_id, old, new in changes:
            for key in new:
                ops.append(self._claim(workspace_id, key))
                held = {"_id": f"{workspace_id}|{key}", "customer_ids": {"$ne": customer_id}}
                push = {"$push": {"customer_ids": customer_id}, "$inc": {"size": 1}}
                ops.append(UpdateOne(held, push))
            for key in set(old) - set(new):
                held = {"_id": f"{workspace_id}|{key}", "customer_ids": customer_id}
                pull = {"$pull": {"customer_ids": customer_id}, "$inc": {"size": -1}}
                ops.append(UpdateOne(held, pull))
        return ops

    async def insert_new(
        self, workspace_id: str, holders: Iterable[tuple[str, Sequence[str]]]
    ) -> None:
        """The rows `sync` would leave for keys no stored card holds yet, as plain inserts."""
        owners: dict[str, list[str]] = {}
        for customer_id, keys in holders:
            for key in keys:
                owners.setdefault(key, []).append(customer_id)
        docs = [
            {"_id": f"{workspace_id}|{key}", "workspace_id": workspace_id, "key": key}
            | {"customer_ids": ids, "size": len(ids)}
            for key, ids in owners.items()
        ]
        if docs:
            await self._c.insert_many(docs, ordered=False)

    async def shared(self, workspace_id: str, limit: int) -> list[tuple[str, list[str]]]:
        """(key, customers) of the keys held by two customers or more."""
        cursor = self._c.find({"workspace_id": workspace_id, "size": {"$gte": 2}}).limit(limit)
        return [(doc["key"], doc["customer_ids"]) async for doc in cursor]

    async def remember_contacts(self, contacts: Sequence[UnknownContact]) -> None:
        """What WhatsApp told us about contacts no card holds yet, under each of their keys."""
        ops = [
            self._claim(workspace_id, key, {"contact": info.model_dump()})
            for workspace_id, keys, info in contacts
            for key in keys
        ]
        if ops:
            await self._c.bulk_write(ops, ordered=True)

    async def contact(self, workspace_id: str, keys: Sequence[str]) -> ContactInfo | None:
        cursor = self._c.find({"_id": {"$in": [f"{workspace_id}|{key}" for key in keys]}})
        seen = [ContactInfo.model_validate(d["contact"]) async for d in cursor if "contact" in d]
        return max(seen, key=lambda c: c.last_seen_at or _EPOCH, default=None)
