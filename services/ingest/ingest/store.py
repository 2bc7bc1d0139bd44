"""The ingest service's MongoDB collections (the only module that imports pymongo)."""

import asyncio
import logging
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
from ingest.token_cipher import TokenCipher

Document = dict[str, Any]
logger = logging.getLogger("hanout.ingest.store")


class ChannelExists(Exception):
    """The phone_number_id is already registered (in this or another workspace)."""


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class ChannelStore:
    """The registry of business numbers; `_id` is Meta's phone_number_id, unique across tenants.
    Access tokens are stored sealed by the cipher (encrypted when keys are configured)."""

    def __init__(self, db: AsyncDatabase[Document], cipher: TokenCipher | None = None) -> None:
        self._channels = db["channels"]
        self._cipher = cipher or TokenCipher([])

    def _record(self, doc: Document) -> ChannelRecord:
        token = self._cipher.open(doc["access_token"])
        return ChannelRecord.model_validate(
            {**doc, "phone_number_id": doc["_id"], "access_token": token}
        )

    async def ensure_indexes(self) -> None:
        await self._channels.create_index([("workspace_id", ASCENDING)])

    async def add(self, record: ChannelRecord) -> None:
        doc = record.model_dump(exclude={"phone_number_id", "access_token"})
        token = self._cipher.seal(record.access_token.get_secret_value())
        doc.update(_id=record.phone_number_id, access_token=token)
        try:
            await self._channels.insert_one(doc)
        except DuplicateKeyError as exc:
            raise ChannelExists(record.phone_number_id) from exc

    async def list_for_workspace(self, workspace_id: str) -> list[ChannelRecord]:
        cursor = self._channels.find({"workspace_id": workspace_id}).sort("_id", ASCENDING)
        return [self._record(doc) async for doc in cursor]

    async def get(self, workspace_id: str, phone_number_id: str) -> ChannelRecord | None:
        doc = await self._channels.find_one({"_id": phone_number_id, "workspace_id": workspace_id})
        return self._record(doc) if doc else None

    async def update(
        self, workspace_id: str, phone_number_id: str, changes: Mapping[str, Any]
    ) -> ChannelRecord | None:
        values = dict(changes)
        if (token := values.get("access_token")) is not None:
            secret = token.get_secret_value() if isinstance(token, SecretStr) else token
            values["access_token"] = self._cipher.seal(secret)
        values["updated_at"] = datetime.now(UTC)
        doc = await self._channels.find_one_and_update(
            {"_id": phone_number_id, "workspace_id": workspace_id},
            {"$set": values},
            return_document=ReturnDocument.AFTER,
        )
        return self._record(doc) if doc else None

    async def all_channels(self) -> list[ChannelRecord]:
        return [self._record(doc) async for doc in self._channels.find({})]


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
    def __init__(self, db: AsyncDatabase[Document], cipher: TokenCipher | None = None) -> None:
        self.channels = ChannelStore(db, cipher)
        self.sends = SendLedger(db)

    async def ensure_indexes(self) -> None:
        await self.channels.ensure_indexes()
        await self.sends.ensure_indexes()


class ChannelDirectory:
    """Every channel in memory, so a webhook never waits on the store.

    Refreshed in the background once older than `ttl_s` (webhooks meanwhile use the copy they
    have), and at once, waited for, when never loaded or when a webhook names a number we do not
    know (at most every `miss_refresh_s`): a channel added on another replica is found before being
    dead-lettered. Concurrent webhooks share one refresh.
    """

    def __init__(self, channels: Any, ttl_s: float, miss_refresh_s: float = 1.0) -> None:
        self._store = channels
        self._ttl_s = ttl_s
        self._miss_refresh_s = miss_refresh_s
        self._by_id: dict[str, ChannelRecord] = {}
        self._loaded_at = float("-inf")
        self._refreshing: asyncio.Task[None] | None = None

    async def lookup(self, phone_number_ids: set[str]) -> Mapping[str, ChannelRecord]:
        age = time.monotonic() - self._loaded_at
        missing = not phone_number_ids <= self._by_id.keys()
        if age == float("inf") or (missing and age > self._miss_refresh_s):
            await asyncio.shield(self._refresh_task())
        elif age > self._ttl_s:
            self._refresh_task().add_done_callback(_log_failure)
        return self._by_id

    def _refresh_task(self) -> "asyncio.Task[None]":
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh())
        return self._refreshing

    async def refresh(self) -> None:
        records = await self._store.all_channels()
        self._by_id = {record.phone_number_id: record for record in records}
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("channel directory refresh failed", extra={"error": repr(error)})
