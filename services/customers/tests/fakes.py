"""A dict-backed stand-in for the customers store, with the same parts and method names."""

from collections.abc import Iterable, Sequence

from customers.matching import name_tokens, parse_phone
from customers.model import (
    ContactInfo,
    Customer,
    ImportJob,
    ImportRow,
    MergeRecord,
    OrderRow,
    Stats,
    WorkspaceSettings,
    compute_stats,
    unite,
)

KeyChange = tuple[str, Sequence[str], Sequence[str]]
UnknownContact = tuple[str, Sequence[str], ContactInfo]


def _live(c: Customer) -> bool:
    return c.merged_into is None


class FakeCustomers:
    def __init__(self) -> None:
        self.rows: dict[str, Customer] = {}
        self.stats_rev: dict[str, int] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def insert_many(self, customers: Sequence[Customer]) -> None:
        for c in customers:
            self.rows[c.customer_id] = c.model_copy(update={"stats": Stats()})
            self.stats_rev[c.customer_id] = 0

    async def update(self, customer: Customer, expected_version: int) -> bool:
        held = self.rows.get(customer.customer_id)
        if held is None or held.version != expected_version:
            return False
        self.rows[customer.customer_id] = customer.model_copy(update={"stats": held.stats})
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

    async def search(
        self, workspace_id: str, field: str, prefix: str, limit: int, offset: int
    ) -> list[Customer]:
        def values(c: Customer) -> list[str]:
            if field == "name_tokens":
                return name_tokens(c.name)
            return [f for p in c.phones for f in parse_phone(p.e164).fragments()]

        found = [c for c in self._of(workspace_id) if _live(c)]
        found = [c for c in found if any(v.startswith(prefix) for v in values(c))]
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


class FakeOrders:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], OrderRow] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def apply(self, workspace_id: str, row: OrderRow) -> list[str]:
        before = self.rows.get((workspace_id, row.order_id))
        if before is not None and before.version >= row.version:
            return []
        self.rows[(workspace_id, row.order_id)] = row
        return unite([row.customer_id], [before.customer_id] if before else [])

    async def of_customers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[OrderRow]:
        return [
            r
            for (ws, _), r in self.rows.items()
            if ws == workspace_id and r.customer_id in customer_ids
        ]


class FakeSettings:
    def __init__(self) -> None:
        self.rows: dict[str, WorkspaceSettings] = {}

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        return self.rows.get(workspace_id, WorkspaceSettings())

    async def put(self, workspace_id: str, settings: WorkspaceSettings, actor: str) -> None:
        self.rows[workspace_id] = settings


class FakeMerges:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, MergeRecord]] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def record(self, workspace_id: str, merge: MergeRecord) -> None:
        self.rows[merge.merge_id] = (workspace_id, merge)

    async def recent(self, workspace_id: str, limit: int) -> list[MergeRecord]:
        mine = [m for ws, m in self.rows.values() if ws == workspace_id]
        return sorted(mine, key=lambda m: m.merged_at, reverse=True)[:limit]


class FakeImports:
    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, ImportJob]] = {}
        self.rows_of: dict[str, list[ImportRow]] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def create(self, workspace_id: str, job: ImportJob) -> None:
        self.jobs[job.import_id] = (workspace_id, job)

    async def save(self, workspace_id: str, job: ImportJob) -> None:
        self.jobs[job.import_id] = (workspace_id, job)

    async def get(self, workspace_id: str, import_id: str) -> ImportJob | None:
        ws, job = self.jobs.get(import_id, ("", None))
        return job if ws == workspace_id else None

    async def add_rows(self, import_id: str, rows: Sequence[ImportRow]) -> None:
        self.rows_of.setdefault(import_id, []).extend(rows)

    async def rows(self, import_id: str, after: int, limit: int) -> list[ImportRow]:
        found = sorted(self.rows_of.get(import_id, []), key=lambda r: r.row)
        return [r for r in found if r.row > after][:limit]


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

    async def add(self, workspace_id: str, customers: Sequence[Customer]) -> None:
        await self.customers.insert_many(customers)
        await self.keys.sync(workspace_id, [(c.customer_id, [], c.keys()) for c in customers])

    async def save(self, before: Customer, after: Customer) -> bool:
        if not await self.customers.update(after, before.version):
            return False
        await self.keys.sync(after.workspace_id, [(after.customer_id, before.keys(), after.keys())])
        return True

    async def merge(
        self,
        before: Customer,
        survivor: Customer,
        absorbed: Sequence[Customer],
        record: MergeRecord,
    ) -> bool:
        if not await self.save(before, survivor):
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
