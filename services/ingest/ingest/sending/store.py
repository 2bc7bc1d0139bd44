"""The `sends` collection: the ledger that makes a send happen once per idempotency key."""

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hanout_shared.contracts.whatsapp import MetaError
from ingest.sending.model import SendRecord

Document = dict[str, Any]


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
