"""Every feature's collections on one database, and the writes that span two of them (the only
modules that import pymongo are this one and the features' `store.py`)."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from customers.cards.model import Customer, OrderRow, compute_stats
from customers.cards.store import CustomerCollection, OrderProjection, SettingsCollection
from customers.imports.store import ImportJobs
from customers.matching.store import KeyChange, KeyIndex
from customers.merging.model import MergeRecord
from customers.merging.store import MergeLog
from hanout_shared.contracts.envelope import CloudEvent

Document = dict[str, Any]
STATS_RETRIES = 20
Card = tuple[str, str]  # workspace id, customer id
Saved = tuple[Customer, Customer, Sequence[CloudEvent]]  # before, after, the events announcing it


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class Store:
    """Every collection of the service, and the writes that span two of them."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.customers = CustomerCollection(db["customers"])
        self.keys = KeyIndex(db["customer_keys"])
        self.orders = OrderProjection(db["orders"])
        self.settings = SettingsCollection(db["settings"])
        self.merges = MergeLog(db["merges"])
        self.imports = ImportJobs(db["imports"], db["import_rows"])
        self._migrations = db["migrations"]

    async def ensure_indexes(self) -> None:
        for part in (self.customers, self.keys, self.orders, self.merges, self.imports):
            await part.ensure_indexes()
        await self._once("search-by-equality", self.customers.reindex_search)

    async def _once(self, name: str, migrate: Callable[[], Awaitable[None]]) -> None:
        """A data migration, run by the first start that has it; a marker remembers it (two
        replicas starting together both run it: each is idempotent)."""
        if await self._migrations.find_one({"_id": name}) is None:
            await migrate()
            done = {"$setOnInsert": {"at": datetime.now(UTC)}}
            await self._migrations.update_one({"_id": name}, done, upsert=True)

    async def add(
        self,
        workspace_id: str,
        customers: Sequence[Customer],
        outbox: Mapping[str, Sequence[CloudEvent]] | None = None,
    ) -> None:
        """New cards with their events (customer id → events), stored together; only a seed
        (the benchmark's) has none to announce."""
        await self.customers.insert_many(customers, outbox or {})
        await self.keys.sync(workspace_id, [(c.customer_id, [], c.keys()) for c in customers])

    async def load(self, workspace_id: str, customers: Sequence[Customer]) -> None:
        """Bulk-insert cards that share no key with any stored card (a seed, a migration): the
        same documents `add` writes, as plain inserts instead of per-key upserts, no events."""
        await self.customers.insert_many(customers, {})
        await self.keys.insert_new(workspace_id, [(c.customer_id, c.keys()) for c in customers])

    async def save(self, before: Customer, after: Customer, events: Sequence[CloudEvent]) -> bool:
        """Write `after` and its events unless the card moved on since `before` was read."""
        if not await self.customers.update(after, before.version, events):
            return False
        await self.keys.sync(after.workspace_id, [(after.customer_id, before.keys(), after.keys())])
        return True

    async def save_all(self, changes: Sequence[Saved]) -> list[Saved]:
        """`save` for many cards, one bulk write per collection; the changes not written (their
        card moved on since `before` was read)."""
        written = await self.customers.update_all(
            [(after, before.version, events) for before, after, events in changes]
        )
        keys: dict[str, list[KeyChange]] = {}
        for before, after, _ in changes:
            if after.customer_id in written:
                change = (after.customer_id, before.keys(), after.keys())
                keys.setdefault(after.workspace_id, []).append(change)
        await self.keys.sync_all(keys)
        return [change for change in changes if change[1].customer_id not in written]

    async def merge(
        self,
        before: Customer,
        survivor: Customer,
        absorbed: Sequence[Customer],
        record: MergeRecord,
        event: CloudEvent,
    ) -> bool:
        """Survivor first, with the merge's event, tombstones after: a merge cut short leaves
        duplicates, never a card pointing nowhere, and running it again finishes it."""
        if not await self.save(before, survivor, [event]):
            return False
        for other in absorbed:
            await self.customers.tombstone(
                other.touched(record.merged_by, record.merged_at, merged_into=survivor.customer_id)
            )
        released: list[KeyChange] = [(o.customer_id, o.keys(), []) for o in absorbed]
        await self.keys.sync(survivor.workspace_id, released)
        await self.merges.record(survivor.workspace_id, record)
        await self.refresh_stats(survivor.workspace_id, survivor.customer_id)
        return True

    async def refresh_all_stats(self, cards: Sequence[Card]) -> None:
        """`refresh_stats` for (workspace, customer) pairs: one read of the cards, one of their
        orders per workspace, one bulk write. A merged-away id, or a card whose stats moved on
        meanwhile, takes the one-at-a-time path."""
        bases = await self.customers.stats_bases(cards)
        live = {
            card: basis
            for card in dict.fromkeys(cards)
            if (basis := bases.get(card)) and not basis.get("merged_into")
        }
        orders = await self._orders_of(
            {card: [card[1], *basis.get("merged_ids", [])] for card, basis in live.items()}
        )
        changes = [
            (card[1], basis.get("stats_rev", 0), compute_stats(orders[card]))
            for card, basis in live.items()
        ]
        slow = [card for card in bases if card not in live]  # merged away
        if not await self.customers.set_all_stats(changes):
            slow += list(live)  # some card's stats moved on meanwhile: recomputed one by one
        for workspace_id, customer_id in slow:
            await self.refresh_stats(workspace_id, customer_id)

    async def _orders_of(self, counted: Mapping[Card, list[str]]) -> dict[Card, list[OrderRow]]:
        """Each card's orders, its own and its merged-away cards': one query per workspace."""
        found: dict[Card, list[OrderRow]] = {card: [] for card in counted}
        for workspace_id in dict.fromkeys(ws for ws, _ in counted):
            card_of = {
                i: card for card, ids in counted.items() if card[0] == workspace_id for i in ids
            }
            for row in await self.orders.of_customers(workspace_id, list(card_of)):
                found[card_of[row.customer_id]].append(row)
        return found

    async def refresh_stats(self, workspace_id: str, customer_id: str) -> None:
        """Recompute from the projection; compare-and-set on a revision, so a recompute that read
        older orders than a concurrent one can never overwrite it."""
        for _ in range(STATS_RETRIES):
            basis = await self.customers.stats_basis(workspace_id, customer_id)
            if basis is None:
                return  # an order of a customer this workspace does not have
            if basis.get("merged_into"):
                customer_id = basis["merged_into"]
                continue
            ids = [customer_id, *basis.get("merged_ids", [])]
            stats = compute_stats(await self.orders.of_customers(workspace_id, ids))
            if await self.customers.set_stats(customer_id, basis.get("stats_rev", 0), stats):
                return
        raise RuntimeError(f"stats of {customer_id} kept changing; will retry")
