"""The customers service's MongoDB collections (the only module that imports pymongo)."""

from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class CustomerStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._customers = db["customers"]

    async def ensure_indexes(self) -> None:
        await self._customers.create_index([("workspace_id", ASCENDING)])
