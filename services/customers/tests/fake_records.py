"""Dict-backed stand-ins for the order projection, settings, the merge log and import jobs."""

from collections.abc import Sequence

from customers.cards.model import OrderRow, WorkspaceSettings, unite
from customers.imports.model import ImportJob, ImportRow
from customers.merging.model import MergeRecord


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

    async def apply_all(self, rows: Sequence[tuple[str, OrderRow]]) -> list[tuple[str, str]]:
        moved = [(ws, customer_id) for ws, row in rows for customer_id in await self.apply(ws, row)]
        return unite([], moved)

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
