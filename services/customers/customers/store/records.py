"""The order projection behind stats, workspace settings, the merge log and import jobs."""

import time
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from customers.model import ImportJob, ImportRow, MergeRecord, OrderRow, WorkspaceSettings, unite
from customers.store.money import from_centimes, to_centimes

Document = dict[str, Any]
Collection = AsyncCollection[Document]


class OrderProjection:
    """The latest version of every order: stats are recomputed from it, never incremented."""

    def __init__(self, collection: Collection) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("workspace_id", ASCENDING), ("customer_id", ASCENDING)])

    async def apply(self, workspace_id: str, row: OrderRow) -> list[str]:
        """Keep `row` if it is newer than what we have; the customers whose stats it moves."""
        _id = f"{workspace_id}:{row.order_id}"
        money = {"total_centimes": to_centimes(row.total)}
        doc = {
            "_id": _id,
            "workspace_id": workspace_id,
            **row.model_dump(exclude={"total"}),
            **money,
        }
        before = await self._c.find_one({"_id": _id})
        if before is None:
            try:
                await self._c.insert_one(doc)
            except DuplicateKeyError:
                return await self.apply(workspace_id, row)
            return [row.customer_id]
        if before["version"] >= row.version:
            return []  # a redelivery or an older version arriving late
        await self._c.update_one({"_id": _id, "version": {"$lt": row.version}}, {"$set": doc})
        return unite([row.customer_id], [before["customer_id"]])

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


class MergeLog:
    def __init__(self, collection: Collection) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("workspace_id", ASCENDING), ("merged_at", DESCENDING)])

    async def record(self, workspace_id: str, merge: MergeRecord) -> None:
        doc = {"workspace_id": workspace_id, **merge.model_dump()}
        await self._c.replace_one({"_id": merge.merge_id}, doc, upsert=True)

    async def recent(self, workspace_id: str, limit: int) -> list[MergeRecord]:
        cursor = self._c.find({"workspace_id": workspace_id}).sort("merged_at", DESCENDING)
        return [MergeRecord.model_validate(d) async for d in cursor.limit(limit)]


class ImportJobs:
    def __init__(self, jobs: Collection, rows: Collection) -> None:
        self._jobs, self._rows = jobs, rows

    async def ensure_indexes(self) -> None:
        await self._rows.create_index([("import_id", ASCENDING), ("row", ASCENDING)])

    async def create(self, workspace_id: str, job: ImportJob) -> None:
        doc = {"_id": job.import_id, "workspace_id": workspace_id, **job.model_dump()}
        await self._jobs.insert_one(doc)

    async def save(self, workspace_id: str, job: ImportJob) -> None:
        await self._jobs.update_one(
            {"_id": job.import_id, "workspace_id": workspace_id}, {"$set": job.model_dump()}
        )

    async def get(self, workspace_id: str, import_id: str) -> ImportJob | None:
        doc = await self._jobs.find_one({"_id": import_id, "workspace_id": workspace_id})
        return ImportJob.model_validate(doc) if doc else None

    async def add_rows(self, import_id: str, rows: Sequence[ImportRow]) -> None:
        docs = [
            {"_id": f"{import_id}:{r.row}", "import_id": import_id, **r.model_dump()} for r in rows
        ]
        if docs:
            await self._rows.insert_many(docs)

    async def rows(self, import_id: str, after: int, limit: int) -> list[ImportRow]:
        query = {"import_id": import_id, "row": {"$gt": after}}
        cursor = self._rows.find(query).sort("row", ASCENDING).limit(limit)
        return [ImportRow.model_validate(d) async for d in cursor]
