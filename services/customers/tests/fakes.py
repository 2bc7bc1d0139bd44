"""A dict-backed stand-in for the customers store, with the same parts and method names."""

from collections.abc import Iterable, Mapping, Sequence

from customers.matching import has_words, parse_phone
from customers.model import ContactInfo, Customer, MergeRecord, Stats, compute_stats
from hanout_shared.contracts.envelope import CloudEvent

from .fake_records import FakeImports, FakeMerges, FakeOrders, FakeSettings

KeyChange = tuple[str, Sequence[str], Sequence[str]]
UnknownContact = tuple[str, Sequence[str], ContactInfo]


def _live(c: Customer) -> bool:
    return c.merged_into is None


class FakeCustomers:
    def __init__(self) -> None:
        self.rows: dict[str, Customer] = {}
        self.stats_rev: dict[str, int] = {}
        self.outbox: dict[str, list[CloudEvent]] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def insert_many(
        self, customers: Sequence[Customer], outbox: Mapping[str, Sequence[CloudEvent]]
    ) -> None:
        for c in customers:
            self.rows[c.customer_id] = c.model_copy(update={"stats": Stats()})
            self.stats_rev[c.customer_id] = 0
            self.outbox[c.customer_id] = list(outbox.get(c.customer_id, []))

    async def update(
        self, customer: Customer, expected_version: int, events: Sequence[CloudEvent]
    ) -> bool:
        held = self.rows.get(customer.customer_id)
        if held is None or held.version != expected_version:
            return False
        self.rows[customer.customer_id] = customer.model_copy(update={"stats": held.stats})
        self.outbox.setdefault(customer.customer_id, []).extend(events)
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
            if _live(c) and any(parse_phone(p.e164).holds(fragment) for p in c.phones)
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


class FakeOutbox:
    def __init__(self, customers: FakeCustomers) -> None:
        self._cards = customers.outbox

    async def ensure_indexes(self) -> None:
        return None

    async def pending(self, customer_ids: Sequence[str]) -> dict[str, list[CloudEvent]]:
        return {c: list(self._cards[c]) for c in customer_ids if self._cards.get(c)}

    async def mark_published(self, customer_ids: Sequence[str], event_ids: Sequence[str]) -> None:
        for card in customer_ids:
            self._cards[card] = [e for e in self._cards.get(card, []) if e.id not in event_ids]

    async def cards_with_pending(self, limit: int) -> list[str]:
        return [card for card, events in self._cards.items() if events][:limit]


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
        self.outbox = FakeOutbox(self.customers)
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

    async def refresh_stats(self, workspace_id: str, customer_id: str) -> None:
        while (basis := await self.customers.stats_basis(workspace_id, customer_id)) is not None:
            if basis["merged_into"]:
                customer_id = str(basis["merged_into"])
                continue
            ids = [customer_id, *basis["merged_ids"]]  # type: ignore[misc]
            stats = compute_stats(await self.orders.of_customers(workspace_id, ids))
            await self.customers.set_stats(customer_id, int(str(basis["stats_rev"])), stats)
            return
