"""The cards' collections: the cards themselves (with their outbox), the order projection their
stats are recomputed from, and the workspace's card settings."""

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from customers.cards.model import Customer, OrderRow, Stats, WorkspaceSettings, unite
from customers.cards.search import NAME_START_MAX, has_words, name_starts
from customers.matching.model import digit_grams, phone_keys
from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.outbox import Outbox, outbox_entries

Document = dict[str, Any]
Collection = AsyncCollection[Document]
WRITE_TOKEN = "write_token"  # which card a bulk write changed (`update_all`)
_CARD = {"outbox": 0, "outbox_lease": 0, WRITE_TOKEN: 0}  # the relay's and the bulk writes'

RETIRED_INDEXES = {"workspace_id_1_fragments_1", "workspace_id_1_name_tokens_1"}
REINDEX_BATCH = 500
UPSERT_ATTEMPTS = 5
DUPLICATE_KEY = 11000
_ORDER_HEAD = {"version": 1, "customer_id": 1}
Change = tuple[Customer, int, Sequence[CloudEvent]]  # the card, the version it was read at, events


def to_centimes(amount: Decimal) -> int:
    """Money in the store: whole centimes as int64, because FerretDB v1 has no Decimal128. Exact:
    an amount finer than a centime is refused, never rounded."""
    centimes = amount.scaleb(2)
    if centimes != centimes.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of centimes")
    return int(centimes)


def from_centimes(centimes: int) -> Decimal:
    return Decimal(centimes).scaleb(-2)


def _state(customer: Customer) -> str:
    return "merged" if customer.merged_into else "archived" if customer.archived else "active"


def _card_doc(customer: Customer) -> Document:
    """Everything but the stats, which only the order projection writes."""
    return {
        **customer.model_dump(exclude={"customer_id", "stats"}),
        "state": _state(customer),
        **_searched_by(customer),
    }


def _searched_by(customer: Customer) -> Document:
    """What finds a card: its identities, and for the search box its digit runs and word
    starts (matched by equality). A merged-away card is found by nothing."""
    if customer.merged_into is not None:
        return {"keys": [], "digit_grams": [], "name_starts": []}
    grams = [gram for phone in customer.phones for gram in phone_keys(phone.e164).grams()]
    return {
        "keys": customer.keys(),
        "digit_grams": list(dict.fromkeys(grams)),
        "name_starts": name_starts(customer.name),
    }


def _stats_doc(stats: Stats) -> Document:
    doc = stats.model_dump(exclude={"total_spent"})
    return doc | {"total_spent_centimes": to_centimes(stats.total_spent)}


def _entries(events: Sequence[CloudEvent]) -> list[Document]:
    return outbox_entries(topics.CUSTOMERS_EVENTS, events)


def _compare_and_set(
    customer: Customer, expected_version: int, events: Sequence[CloudEvent], write: str = ""
) -> tuple[Document, Document]:
    update: Document = {"$set": _card_doc(customer) | ({WRITE_TOKEN: write} if write else {})}
    if events:
        update["$push"] = {"outbox": {"$each": _entries(events)}}
    return {"_id": customer.customer_id, "version": expected_version}, update


def _customer(doc: Document) -> Customer:
    stats = dict(doc.get("stats") or {})
    if "total_spent_centimes" in stats:
        stats["total_spent"] = from_centimes(stats.pop("total_spent_centimes"))
    return Customer.model_validate({**doc, "customer_id": doc["_id"], "stats": stats})


class CustomerCollection:
    """The cards, each carrying the events its writes announced and the relay has not yet
    published (`outbox`, read and emptied by the platform's relay only)."""

    def __init__(self, collection: Collection) -> None:
        self._c = collection
        self.outbox = Outbox(collection)

    async def ensure_indexes(self) -> None:
        for field in ("keys", "digit_grams", "name_starts", "merged_into"):
            await self._c.create_index([("workspace_id", ASCENDING), (field, ASCENDING)])
        await self._c.create_index(
            [("workspace_id", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)]
        )
        existing = await self._c.index_information()
        for retired in RETIRED_INDEXES & set(existing):
            await self._c.drop_index(retired)
        await self.outbox.ensure_indexes()

    async def reindex_search(self) -> None:
        """Cards written before `digit_grams` and `name_starts` get them (and lose the fields
        they replace)."""
        writes = []
        async for doc in self._c.find({"digit_grams": {"$exists": False}}, _CARD):
            searched = _searched_by(_customer(doc))
            retired = {"fragments": "", "name_tokens": ""}
            writes.append(UpdateOne({"_id": doc["_id"]}, {"$set": searched, "$unset": retired}))
            if len(writes) == REINDEX_BATCH:
                await self._c.bulk_write(writes, ordered=False)
                writes = []
        if writes:
            await self._c.bulk_write(writes, ordered=False)

    async def insert_many(
        self, customers: Sequence[Customer], outbox: Mapping[str, Sequence[CloudEvent]]
    ) -> None:
        """New cards, each with the events announcing it (`outbox`: customer id → events)."""
        fresh = {"stats": _stats_doc(Stats()), "stats_rev": 0}
        docs = [{"_id": c.customer_id, **_card_doc(c), **fresh} for c in customers]
        for doc in docs:
            if events := outbox.get(doc["_id"]):
                doc["outbox"] = _entries(events)
        if docs:
            await self._c.insert_many(docs, ordered=False)

    async def update(
        self, customer: Customer, expected_version: int, events: Sequence[CloudEvent]
    ) -> bool:
        """Write the card and queue its events, in one update, if nobody changed it since
        `expected_version` was read."""
        result = await self._c.update_one(*_compare_and_set(customer, expected_version, events))
        return result.matched_count == 1

    async def update_all(self, changes: Sequence[Change]) -> set[str]:
        """`update` for many cards in one bulk write; the ids of the cards written."""
        if not changes:
            return set()
        # A bulk write counts its matches but does not say which: each write leaves a token.
        token = secrets.token_hex(8)
        ops = [UpdateOne(*_compare_and_set(*change, write=token)) for change in changes]
        ids = [customer.customer_id for customer, _, _ in changes]
        if (await self._c.bulk_write(ops, ordered=False)).matched_count == len(ops):
            return set(ids)
        cursor = self._c.find({"_id": {"$in": ids}, WRITE_TOKEN: token}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

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

    async def search_digits(
        self, workspace_id: str, fragment: str, limit: int, offset: int
    ) -> list[Customer]:
        """Cards with a number holding `fragment` (4 digits or more). One equality on its last
        run of four digits (a number's start is shared by every mobile, its end is not); each
        card read is checked for the whole fragment. (`$all` on every run would be exact, but
        SecantusDB answers `$all` by reading the whole collection.)"""
        where = {"workspace_id": workspace_id, "digit_grams": digit_grams(fragment)[-1]}

        def holds(card: Customer) -> bool:
            return any(phone_keys(phone.e164).holds(fragment) for phone in card.phones)

        return await self._matching(where, holds, limit, offset)

    async def search_names(
        self, workspace_id: str, words: Sequence[str], limit: int, offset: int
    ) -> list[Customer]:
        """Cards whose name has a word starting with each of `words`: one equality on the
        longest word's start, each card read checked for all of them."""
        longest = max(words, key=len)[:NAME_START_MAX]
        where = {"workspace_id": workspace_id, "name_starts": longest}
        return await self._matching(where, lambda card: has_words(card.name, words), limit, offset)

    async def _matching(
        self, where: Document, check: Callable[[Customer], bool], limit: int, offset: int
    ) -> list[Customer]:
        found: list[Customer] = []
        async with self._c.find(where, _CARD) as cursor:
            async for doc in cursor:
                if check(card := _customer(doc)):
                    found.append(card)
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
        return (await self.stats_bases([(workspace_id, customer_id)])).get(
            (workspace_id, customer_id)
        )

    async def stats_bases(
        self, cards: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Document]:
        """What stats are recomputed from, for each (workspace, customer) that exists."""
        ids = list(dict.fromkeys(customer_id for _, customer_id in cards))
        fields = {"workspace_id": 1, "merged_into": 1, "merged_ids": 1, "stats_rev": 1}
        cursor = self._c.find({"_id": {"$in": ids}}, fields)
        return {(doc["workspace_id"], doc["_id"]): doc async for doc in cursor}

    async def set_stats(self, customer_id: str, revision: int, stats: Stats) -> bool:
        return await self.set_all_stats([(customer_id, revision, stats)])

    async def set_all_stats(self, changes: Sequence[tuple[str, int, Stats]]) -> bool:
        """Each card's stats, compare-and-set on its revision, in one bulk write; False if any
        card's stats moved on meanwhile."""
        ops = [
            UpdateOne(
                {"_id": customer_id, "stats_rev": revision},
                {"$set": {"stats": _stats_doc(stats)}, "$inc": {"stats_rev": 1}},
            )
            for customer_id, revision, stats in changes
        ]
        return not ops or (await self._c.bulk_write(ops, ordered=False)).matched_count == len(ops)


def _newer(_id: str, workspace_id: str, row: OrderRow) -> list[UpdateOne]:
    """The order inserted if missing, then moved to `row` if what is stored is older."""
    doc = {
        "workspace_id": workspace_id,
        **row.model_dump(exclude={"total"}),
        "total_centimes": to_centimes(row.total),
    }
    return [
        UpdateOne({"_id": _id}, {"$setOnInsert": doc}, upsert=True),
        UpdateOne({"_id": _id, "version": {"$lt": row.version}}, {"$set": doc}),
    ]


class OrderProjection:
    """The latest version of every order: stats are recomputed from it, never incremented."""

    def __init__(self, collection: Collection) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("workspace_id", ASCENDING), ("customer_id", ASCENDING)])

    async def apply(self, workspace_id: str, row: OrderRow) -> list[str]:
        """Keep `row` if it is newer than what we have; the customers whose stats it moves."""
        return [customer_id for _, customer_id in await self.apply_all([(workspace_id, row)])]

    async def apply_all(self, rows: Sequence[tuple[str, OrderRow]]) -> list[tuple[str, str]]:
        """`apply` for a batch, in its order: one read and one bulk write; the (workspace,
        customer) pairs whose stats the batch moves."""
        for _ in range(UPSERT_ATTEMPTS):
            try:
                return await self._apply_all(rows)
            except BulkWriteError as exc:
                if any(e["code"] != DUPLICATE_KEY for e in exc.details["writeErrors"]):
                    raise  # else another replica inserted one of these orders: read again
        raise RuntimeError("orders kept being inserted concurrently; will retry")

    async def _apply_all(self, rows: Sequence[tuple[str, OrderRow]]) -> list[tuple[str, str]]:
        ids = list(dict.fromkeys(f"{ws}:{row.order_id}" for ws, row in rows))
        held = {d["_id"]: d async for d in self._c.find({"_id": {"$in": ids}}, _ORDER_HEAD)}
        latest: dict[str, tuple[str, OrderRow]] = {}
        moved: list[tuple[str, str]] = []
        for ws, row in rows:
            _id = f"{ws}:{row.order_id}"
            before = held.get(_id)
            if before is not None and before["version"] >= row.version:
                continue  # a redelivery or an older version arriving late
            moved += [(ws, row.customer_id)] + ([(ws, before["customer_id"])] if before else [])
            held[_id], latest[_id] = row.model_dump(include=set(_ORDER_HEAD)), (ws, row)
        writes = [op for _id, (ws, row) in latest.items() for op in _newer(_id, ws, row)]
        if writes:
            await self._c.bulk_write(writes, ordered=True)
        return unite([], moved)

    async def of_customers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[OrderRow]:
        query = {"workspace_id": workspace_id, "customer_id": {"$in": list(customer_ids)}}
        return [
            OrderRow.model_validate({**d, "total": from_centimes(d["total_centimes"])})
            async for d in self._c.find(query)
        ]


class SettingsCollection:
    """Read on every lookup, changed rarely: each replica keeps them for `ttl_s` seconds."""

    def __init__(self, collection: Collection, ttl_s: float = 10.0) -> None:
        self._c, self._ttl_s = collection, ttl_s
        self._cache: dict[str, tuple[float, WorkspaceSettings]] = {}

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        expires, settings = self._cache.get(workspace_id, (0.0, WorkspaceSettings()))
        if expires > time.monotonic():
            return settings
        doc = await self._c.find_one({"_id": workspace_id})
        settings = WorkspaceSettings.model_validate(doc) if doc else WorkspaceSettings()
        self._cache[workspace_id] = (time.monotonic() + self._ttl_s, settings)
        return settings

    async def put(self, workspace_id: str, settings: WorkspaceSettings, actor: str) -> None:
        doc = {**settings.model_dump(), "updated_by": actor}
        await self._c.update_one({"_id": workspace_id}, {"$set": doc}, upsert=True)
        self._cache[workspace_id] = (time.monotonic() + self._ttl_s, settings)
