"""The orders service's MongoDB collections (the only module that imports pymongo)."""

from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class OrderStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._orders = db["orders"]

    async def ensure_indexes(self) -> None:
        await self._orders.create_index([("workspace_id", ASCENDING)])
