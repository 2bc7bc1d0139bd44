"""The merge log: who merged which cards, and when."""

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from customers.merging.model import MergeRecord

Document = dict[str, Any]


class MergeLog:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._c = collection

    async def ensure_indexes(self) -> None:
        await self._c.create_index([("workspace_id", ASCENDING), ("merged_at", DESCENDING)])

    async def record(self, workspace_id: str, merge: MergeRecord) -> None:
        doc = {"workspace_id": workspace_id, **merge.model_dump()}
        await self._c.replace_one({"_id": merge.merge_id}, doc, upsert=True)

    async def recent(self, workspace_id: str, limit: int) -> list[MergeRecord]:
        cursor = self._c.find({"workspace_id": workspace_id}).sort("merged_at", DESCENDING)
        return [MergeRecord.model_validate(d) async for d in cursor.limit(limit)]
