"""A dict-backed stand-in for the customers store, with the same parts and method names."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from customers.cards.model import Customer, Stats, compute_stats
from customers.cards.search import has_words
from customers.matching.model import ContactInfo, phone_keys
from customers.merging.model import MergeRecord
from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.outbox import outbox_entries

from .fake_records import FakeImports, FakeMerges, FakeOrders, FakeSettings

KeyChange = tuple[str, Sequence[str], Sequence[str]]
UnknownContact = tuple[str, Sequence[str], ContactInfo]


def _live(c: Customer) -> bool:
    return c.merged_into is None


class FakeOutbox:
    """The platform's `Outbox` over the fake cards' pending entries."""

    def __init__(self) -> None:
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.leases: dict[str, datetime] = {}
        self.name = "customers"

    def add(self, customer_id: str, events: Sequence[CloudEvent]) -> None:
        found = self.entries.setdefault(customer_id, [])
        found.extend(outbox_entries(topics.CUSTOMERS_EVENTS, events))

    async def ensure_indexes(self) -> None:
        return None

    async def pending(self, doc_id: str) -> list[dict[str, Any]]:
        return list(self.entries.get(doc_id, []))

    async def clear(self, doc_id: str, entries: Sequence[dict[str, Any]]) -> None:
        self.entries[doc_id] = [e for e in self.entries.get(doc_id, []) if e not in entries]

    async def stale(self, older_than: datetime, limit: int) -> list[str]:
        found = [
            doc_id
            for doc_id, entries in self.entries.items()
            if any(entry["at"] < older_than for entry in entries)
        ]
        return found[:limit]

    async def claim(self, doc_id: str, until: datetime) -> bool:
        held = self.leases.get(doc_id)
        if held is not None and held > datetime.now(until.tzinfo):
            return False
        self.leases[doc_id] = until
        return True

    async def backlog(self) -> tuple[int, datetime | None]:
        times = [entry["at"] for entries in self.entries.values() for entry in entries]
        return len(times), min(times, default=None)


class FakeCustomers:
    def __init__(self) -> None:
        self.rows: dict[str, Customer] = {}
        self.stats_rev: dict[str, int] = {}
        self.outbox = FakeOutbox()

    async def ensure_indexes(self) -> None:
        return None

    async def insert_many(
        self, customers: Sequence[Customer], outbox: Mapping[str, Sequence[CloudEvent]]
    ) -> None:
        for c in customers:
            self.rows[c.customer_id] = c.model_copy(update={"stats": Stats()})
            self.stats_rev[c.customer_id] = 0
            self.outbox.add(c.customer_id, outbox.get(c.customer_id, []))

    async def update(
        self, customer: Customer, expected_version: int, events: Sequence[CloudEvent]
    ) -> bool:
        held = self.rows.get(customer.customer_id)
        if held is None or held.version != expected_version:
            return False
        self.rows[customer.customer_id] = customer.model_copy(update={"stats": held.stats})
        self.outbox.add(customer.customer_id, events)
        return True

    async def get(self, workspace_id: str, customer_id: str) -> Customer | None:
        c = self.rows.get(customer_id)
        return c if c and c.workspace_id == workspace_id else None

    async def get_many(self, workspace_id: str, ids: Sequence[str]) -> list[Customer]:
        return [c for i in ids if (c := await self.get(workspace_id, i))]

    async def find_by_keys(self, workspace_id: str, keys: Sequence[str]) -> list[Customer]:
        return sorted(
            (c for c in self._of(workspace_id) if _live(c) and set(c.keys()) & set(keys)),
            key=lambda c: c.customer_id,
        )

    async def holding(self, keys_by_workspace: Mapping[str, Sequence[str]]) -> list[Customer]:
        return [
            c for ws, keys in keys_by_workspace.items() for c in await self.find_by_keys(ws, keys)
        ]

    async def search_digits(
        self, workspace_id: str, fragment: str, limit: int, offset: int
    ) -> list[Customer]:
        found = [
            c
            for c in self._of(workspace_id)
            if _live(c) and any(phone_keys(p.e164).holds(fragment) for p in c.phones)
        ]
        return found[offset : offset + limit]

    async def search_names(
        self, workspace_id: str, words: Sequence[str], limit: int, offset: int
    ) -> list[Customer]:
        found = [c for c in self._of(workspace_id) if _live(c) and has_words(c.name, words)]
        return found[offset : offset + limit]

    async def page(
        self, workspace_id: str, state: str, before: str | None, limit: int
    ) -> list[Customer]:
        wanted = [
            c for c in self._of(workspace_id) if _live(c) and c.archived == (state == "archived")
        ]
        wanted = [c for c in wanted if before is None or c.customer_id < before]
        return sorted(wanted, key=lambda c: c.customer_id, reverse=True)[:limit]

    async def tombstone(self, gone: Customer) -> None:
        self.rows[gone.customer_id] = gone.model_copy(
            update={"stats": self.rows[gone.customer_id].stats}
        )
        for c in list(self.rows.values()):
            if c.merged_into == gone.customer_id:
                self.rows[c.customer_id] = c.model_copy(update={"merged_into": gone.merged_into})

    async def stats_basis(self, workspace_id: str, customer_id: str) -> dict[str, object] | None:
        c = await self.get(workspace_id, customer_id)
        if c is None:
            return None
        rev = self.stats_rev[customer_id]
        return {"merged_into": c.merged_into, "merged_ids": c.merged_ids, "stats_rev": rev}

    async def set_stats(self, customer_id: str, revision: int, stats: Stats) -> bool:
        if self.stats_rev[customer_id] != revision:
            return False
        self.stats_rev[customer_id] += 1
        self.rows[customer_id] = self.rows[customer_id].model_copy(update={"stats": stats})
        return True

    def _of(self, workspace_id: str) -> list[Customer]:
        return [c for c in self.rows.values() if c.workspace_id == workspace_id]


class FakeKeys:
    def __init__(self) -> None:
        self.owners: dict[tuple[str, str], list[str]] = {}
        self.contacts: dict[tuple[str, str], ContactInfo] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def sync(self, workspace_id: str, changes: Iterable[KeyChange]) -> None:
        for customer_id, old, new in changes:
            for key in new:
                owners = self.owners.setdefault((workspace_id, key), [])
                if customer_id not in owners:
                    owners.append(customer_id)
            for key in set(old) - set(new):
                self.owners.get((workspace_id, key), []).remove(customer_id)

    async def shared(self, workspace_id: str, limit: int) -> list[tuple[str, list[str]]]:
        found = [(k, ids) for (ws, k), ids in self.owners.items() if ws == workspace_id]
        return [(k, list(ids)) for k, ids in found if len(ids) >= 2][:limit]

    async def remember_contacts(
        self, contacts: Sequence[tuple[str, Sequence[str], ContactInfo]]
    ) -> None:
        for workspace_id, keys, info in contacts:
            for key in keys:
                self.contacts[(workspace_id, key)] = info

    async def contact(self, workspace_id: str, keys: Sequence[str]) -> ContactInfo | None:
        seen = [
            self.contacts[(workspace_id, k)] for k in keys if (workspace_id, k) in self.contacts
        ]
        return seen[-1] if seen else None


class FakeStore:
    def __init__(self) -> None:
        self.customers = FakeCustomers()
        self.keys = FakeKeys()
        self.orders = FakeOrders()
        self.settings = FakeSettings()
        self.merges = FakeMerges()
        self.imports = FakeImports()

    async def ensure_indexes(self) -> None:
        return None

    async def add(
        self,
        workspace_id: str,
        customers: Sequence[Customer],
        outbox: Mapping[str, Sequence[CloudEvent]] | None = None,
    ) -> None:
        await self.customers.insert_many(customers, outbox or {})
        await self.keys.sync(workspace_id, [(c.customer_id, [], c.keys()) for c in customers])

    async def load(self, workspace_id: str, customers: Sequence[Customer]) -> None:
        await self.add(workspace_id, customers)

    async def save(self, before: Customer, after: Customer, events: Sequence[CloudEvent]) -> bool:
        if not await self.customers.update(after, before.version, events):
            return False
        await self.keys.sync(after.workspace_id, [(after.customer_id, before.keys(), after.keys())])
        return True

    async def save_all(
        self, changes: Sequence[tuple[Customer, Customer, Sequence[CloudEvent]]]
    ) -> list[tuple[Customer, Customer, Sequence[CloudEvent]]]:
        return [change for change in changes if not await self.save(*change)]

    async def merge(
        self,
        before: Customer,
        survivor: Customer,
        absorbed: Sequence[Customer],
        record: MergeRecord,
        event: CloudEvent,
    ) -> bool:
        if not await self.save(before, survivor, [event]):
            return False
        for other in absorbed:
            gone = other.touched(
                record.merged_by, record.merged_at, merged_into=survivor.customer_id
            )
            await self.customers.tombstone(gone)
        await self.keys.sync(
            survivor.workspace_id, [(o.customer_id, o.keys(), []) for o in absorbed]
        )
        await self.merges.record(survivor.workspace_id, record)
        await self.refresh_stats(survivor.workspace_id, survivor.customer_id)
        return True

    async def refresh_all_stats(self, cards: Sequence[tuple[str, str]]) -> None:
        for workspace_id, customer_id in cards:
            await self.refresh_stats(workspace_id, customer_id)

    async def refresh_stats(self, workspace_id: str, customer_id: str) -> None:
        while (basis := await self.customers.stats_basis(workspace_id, customer_id)) is not None:
            if basis["merged_into"]:
                customer_id = str(basis["merged_into"])
                continue
            ids = [customer_id, *basis["merged_ids"]]  # type: ignore[misc]
            stats = compute_stats(await self.orders.of_customers(workspace_id, ids))
            await self.customers.set_stats(customer_id, int(str(basis["stats_rev"])), stats)
            return
