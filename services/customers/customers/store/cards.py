"""Customer cards, and the per-key index behind duplicate groups and unknown contacts."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from customers.matching import name_tokens, parse_phone
from customers.model import ContactInfo, Customer, Stats
from customers.store.money import from_centimes, to_centimes
from customers.store.outbox import outbox_entries
from hanout_shared.contracts.envelope import CloudEvent

Document = dict[str, Any]
Collection = AsyncCollection[Document]
KeyChange = tuple[str, Sequence[str], Sequence[str]]
UnknownContact = tuple[str, Sequence[str], ContactInfo]
_EPOCH = datetime.min.replace(tzinfo=UTC)
_CARD = {"outbox": 0}  # pending events are the relay's business, never a reader's


def _state(customer: Customer) -> str:
    return "merged" if customer.merged_into else "archived" if customer.archived else "active"


def _card_doc(customer: Customer) -> Document:
    """Everything but the stats, which only the order projection writes."""
    live = customer.merged_into is None
    fragments = [f for p in customer.phones for f in parse_phone(p.e164).fragments()]
    return {
        **customer.model_dump(exclude={"customer_id", "stats"}),
        "state": _state(customer),
        "keys": customer.keys() if live else [],
        "fragments": list(dict.fromkeys(fragments)) if live else [],
        "name_tokens": name_tokens(customer.name) if live else [],
    }


def _stats_doc(stats: Stats) -> Document:
    doc = stats.model_dump(exclude={"total_spent"})
    return doc | {"total_spent_centimes": to_centimes(stats.total_spent)}


def _customer(doc: Document) -> Customer:
    stats = dict(doc.get("stats") or {})
    if "total_spent_centimes" in stats:
        stats["total_spent"] = from_centimes(stats.pop("total_spent_centimes"))
    return Customer.model_validate({**doc, "customer_id": doc["_id"], "stats": stats})


class CustomerCollection:
    def __init__(self, collection: Collection) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        for field in ("keys", "fragments", "name_tokens", "merged_into"):
            await self._c.create_index([("workspace_id", ASCENDING), (field, ASCENDING)])
        await self._c.create_index(
            [("workspace_id", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)]
        )

    async def insert_many(
        self, customers: Sequence[Customer], outbox: Mapping[str, Sequence[CloudEvent]]
    ) -> None:
        """New cards, each with the events announcing it (`outbox`: customer id → events)."""
        fresh = {"stats": _stats_doc(Stats()), "stats_rev": 0}
        docs = [{"_id": c.customer_id, **_card_doc(c), **fresh} for c in customers]
        for doc in docs:
            if events := outbox.get(doc["_id"]):
                doc["outbox"] = outbox_entries(events)
        if docs:
            await self._c.insert_many(docs, ordered=False)

    async def update(
        self, customer: Customer, expected_version: int, events: Sequence[CloudEvent]
    ) -> bool:
        """Write the card and queue its events, in one update, if nobody changed it since
        `expected_version` was read."""
        update: Document = {"$set": _card_doc(customer)}
        if events:
            update["$push"] = {"outbox": {"$each": outbox_entries(events)}}
        result = await self._c.update_one(
            {"_id": customer.customer_id, "version": expected_version}, update
        )
        return result.matched_count == 1

    async def get(self, workspace_id: str, customer_id: str) -> Customer | None:
        doc = await self._c.find_one({"_id": customer_id, "workspace_id": workspace_id}, _CARD)
        return _customer(doc) if doc else None

    async def get_many(self, workspace_id: str, ids: Sequence[str]) -> list[Customer]:
        cursor = self._c.find({"_id": {"$in": list(ids)}, "workspace_id": workspace_id}, _CARD)
        found = {d["_id"]: _customer(d) async for d in cursor}
        return [found[i] for i in ids if i in found]

    async def find_by_keys(self, workspace_id: str, keys: Sequence[str]) -> list[Customer]:
        """Live (not merged-away) customers holding any of the keys: one indexed equality."""
        if not keys:
            return []
        query = {"workspace_id": workspace_id, "keys": {"$in": list(keys)}}
        cursor = self._c.find(query, _CARD)
        return sorted([_customer(d) async for d in cursor], key=lambda c: c.customer_id)

    async def holding(self, keys_by_workspace: Mapping[str, Sequence[str]]) -> list[Customer]:
        """Live customers holding any of the keys of their workspace: one indexed query per
        workspace of the batch (an `$or` of them is a collection scan on SecantusDB)."""
        found: list[Customer] = []
        for workspace_id, keys in keys_by_workspace.items():
            found += await self.find_by_keys(workspace_id, list(dict.fromkeys(keys)))
        return found

    async def search(
        self, workspace_id: str, field: str, prefix: str, limit: int, offset: int
    ) -> list[Customer]:
        """Customers with a `fragments`/`name_tokens` entry starting with `prefix`. The indexed
        range may, outside SecantusDB, match a card on two entries (one above, one below), so
        each card is checked here: a $regex would be exact everywhere but scans the collection."""
        bounds = {"$gte": prefix, "$lt": prefix + "\U0010ffff"}
        cursor = self._c.find({"workspace_id": workspace_id, field: bounds}, _CARD)
        found: list[Customer] = []
        async with cursor:
            async for doc in cursor:
                if any(value.startswith(prefix) for value in doc.get(field, [])):
                    found.append(_customer(doc))
                if len(found) == offset + limit:
                    break
        return found[offset:]

    async def count(self, workspace_id: str) -> int:
        return await self._c.count_documents({"workspace_id": workspace_id, "state": "active"})

    async def page(
        self, workspace_id: str, state: str, before: str | None, limit: int
    ) -> list[Customer]:
        query: Document = {"workspace_id": workspace_id, "state": state}
        if before:
            query["_id"] = {"$lt": before}
        cursor = self._c.find(query, _CARD).sort("_id", DESCENDING).limit(limit)
        return [_customer(d) async for d in cursor]

    async def tombstone(self, gone: Customer) -> None:
        """Write a merged-away card, and re-point the tombstones that pointed to it."""
        await self._c.update_one({"_id": gone.customer_id}, {"$set": _card_doc(gone)})
        await self._c.update_many(
            {"workspace_id": gone.workspace_id, "merged_into": gone.customer_id},
            {"$set": {"merged_into": gone.merged_into}},
        )

    async def stats_basis(self, workspace_id: str, customer_id: str) -> Document | None:
        return await self._c.find_one(
            {"_id": customer_id, "workspace_id": workspace_id},
            {"merged_into": 1, "merged_ids": 1, "stats_rev": 1},
        )

    async def set_stats(self, customer_id: str, revision: int, stats: Stats) -> bool:
        result = await self._c.update_one(
            {"_id": customer_id, "stats_rev": revision},
            {"$set": {"stats": _stats_doc(stats)}, "$inc": {"stats_rev": 1}},
        )
        return result.matched_count == 1


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
        if ops:
            await self._c.bulk_write(ops, ordered=True)

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
