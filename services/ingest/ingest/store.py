"""Every feature's collections on ingest's database in one object, created with their indexes."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from ingest.channels.store import ChannelStore, TokenCipher
from ingest.sending.store import SendLedger

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class IngestStore:
    def __init__(self, db: AsyncDatabase[Document], cipher: TokenCipher | None = None) -> None:
        self.channels = ChannelStore(db, cipher)
        self.sends = SendLedger(db)

    async def ensure_indexes(self) -> None:
        await self.channels.ensure_indexes()
        await self.sends.ensure_indexes()
