"""The ingest service's MongoDB collections (the only module that imports pymongo)."""

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hanout_shared.contracts.whatsapp import MetaError
from ingest.model import ChannelRecord, SendRecord

Document = dict[str, Any]


class ChannelExists(Exception):
    """The phone_number_id is already registered (in this or another workspace)."""


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


def _channel(doc: Document) -> ChannelRecord:
    doc = {**doc, "phone_number_id": doc["_id"]}
    return ChannelRecord.model_validate(doc)


class ChannelStore:
    """The registry of business numbers; `_id` is Meta's phone_number_id, unique across tenants."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._channels = db["channels"]

    async def ensure_indexes(self) -> None:
        await self._channels.create_index([("workspace_id", ASCENDING)])

    async def add(self, record: ChannelRecord) -> None:
        doc = record.model_dump(exclude={"phone_number_id", "access_token"})
        doc.update(_id=record.phone_number_id, access_token=record.access_token.get_secret_value())
        try:
            await self._channels.insert_one(doc)
        except DuplicateKeyError as exc:
            raise ChannelExists(record.phone_number_id) from exc

    async def list_for_workspace(self, workspace_id: str) -> list[ChannelRecord]:
        cursor = self._channels.find({"workspace_id": workspace_id}).sort("_id", ASCENDING)
        return [_channel(doc) async for doc in cursor]

    async def get(self, workspace_id: str, phone_number_id: str) -> ChannelRecord | None:
        doc = await self._channels.find_one({"_id": phone_number_id, "workspace_id": workspace_id})
        return _channel(doc) if doc else None

    async def update(
        self, workspace_id: str, phone_number_id: str, changes: Mapping[str, Any]
    ) -> ChannelRecord | None:
        values = {
            k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in changes.items()
        }
        values["updated_at"] = datetime.now(UTC)
        doc = await self._channels.find_one_and_update(
            {"_id": phone_number_id, "workspace_id": workspace_id},
            {"$set": values},
            return_document=ReturnDocument.AFTER,
        )
        return _channel(doc) if doc else None

    async def all_channels(self) -> list[ChannelRecord]:
        return [_channel(doc) async for doc in self._channels.find({})]


class SendLedger:
    """One row per idempotency key: claimed before Meta is called, then accepted or failed."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._sends = db["sends"]

    async def ensure_indexes(self) -> None:
        await self._sends.create_index(
            [("workspace_id", ASCENDING), ("idempotency_key", ASCENDING)], unique=True
        )

    async def claim(
        self, workspace_id: str, idempotency_key: str, command_id: str
    ) -> SendRecord | None:
        """None when this call claimed the key; else the row an earlier delivery left."""
        now = datetime.now(UTC)
        try:
            doc = await self._sends.find_one_and_update(
                {"workspace_id": workspace_id, "idempotency_key": idempotency_key},
                {"$setOnInsert": {"state": "claimed", "command_id": command_id, "claimed_at": now}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:  # two upserts raced: the other one claimed it
            doc = await self._sends.find_one(
                {"workspace_id": workspace_id, "idempotency_key": idempotency_key}
            )
        return SendRecord.model_validate(doc) if doc else None

    async def record_accepted(self, workspace_id: str, idempotency_key: str, wamid: str) -> None:
        await self._finish(workspace_id, idempotency_key, {"state": "accepted", "wamid": wamid})

    async def record_failed(
        self, workspace_id: str, idempotency_key: str, error: MetaError, reason: str, retry: bool
    ) -> None:
        values = {"state": "failed", "error": error.model_dump(), "reason": reason}
        await self._finish(workspace_id, idempotency_key, {**values, "retryable": retry})

    async def _finish(self, workspace_id: str, key: str, values: Document) -> None:
        values["finished_at"] = datetime.now(UTC)
        await self._sends.update_one(
            {"workspace_id": workspace_id, "idempotency_key": key}, {"$set": values}
        )


class IngestStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.channels = ChannelStore(db)
        self.sends = SendLedger(db)

    async def ensure_indexes(self) -> None:
        await self.channels.ensure_indexes()
        await self.sends.ensure_indexes()


class ChannelDirectory:
    """Every channel in memory, so a webhook never waits on the store.

    Refreshed every `ttl_s`, and at once (at most every `miss_refresh_s`) when a webhook names a
    number we do not know: a channel added on another replica is found before being dead-lettered.
    """

    def __init__(self, channels: Any, ttl_s: float, miss_refresh_s: float = 1.0) -> None:
        self._store = channels
        self._ttl_s = ttl_s
        self._miss_refresh_s = miss_refresh_s
        self._by_id: dict[str, ChannelRecord] = {}
        self._loaded_at = float("-inf")

    async def lookup(self, phone_number_ids: set[str]) -> Mapping[str, ChannelRecord]:
        age = time.monotonic() - self._loaded_at
        missing = not phone_number_ids <= self._by_id.keys()
        if age > self._ttl_s or (missing and age > self._miss_refresh_s):
            await self.refresh()
        return self._by_id

    async def refresh(self) -> None:
        records = await self._store.all_channels()
        self._by_id = {record.phone_number_id: record for record in records}
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")
