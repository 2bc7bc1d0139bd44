"""Import jobs and the rows each reported (refused or duplicate)."""

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from customers.imports.model import ImportJob, ImportRow

Document = dict[str, Any]
Collection = AsyncCollection[Document]


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
