"""The `channels` collection: the registry of business numbers, access tokens sealed at rest."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from pydantic import SecretStr
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ingest.channels.model import ChannelRecord

Document = dict[str, Any]
PREFIX = "fernet:"  # rows written before keys were configured hold the token as given


class TokenKeyMissing(RuntimeError):
    """A stored token is encrypted but no key is configured to read it."""


class TokenCipher:
    """The first key encrypts; every key decrypts, so a key rotates without downtime."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    def seal(self, token: str) -> str:
        if self._fernet is None:
            return token
        return PREFIX + self._fernet.encrypt(token.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise TokenKeyMissing("channel tokens are encrypted: set INGEST_TOKEN_KEYS")
        return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()


class ChannelExists(Exception):
    """The phone_number_id is already registered (in this or another workspace)."""


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
