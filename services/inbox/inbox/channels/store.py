"""The `channels` and `templates` collections: business numbers as the inbox knows them."""

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.channels.model import Channel, channel_id
from inbox.channels.templates import ChannelTemplates
from inbox.documents import Document


class ChannelStore:
    """Numbers seen on messages or template syncs, with their per-number inbox settings."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self._remembered: set[tuple[str, str, str | None]] = set()

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("phone_number_id", 1)])

    async def remember(
        self, workspace_id: str, phone_number_id: str, display_phone_number: str | None
    ) -> None:
        update: Document = {
            "$setOnInsert": {
                "workspace_id": workspace_id,
                "phone_number_id": phone_number_id,
                "read_receipts": False,
            }
        }
        seen = (workspace_id, phone_number_id, display_phone_number)
        if seen in self._remembered:
            return  # every message names its number: write it once per process, not per message
        if display_phone_number:
            update["$set"] = {"display_phone_number": display_phone_number}
        await self._col.update_one(
            {"_id": channel_id(workspace_id, phone_number_id)}, update, upsert=True
        )
        if len(self._remembered) > 10_000:
            self._remembered.clear()
        self._remembered.add(seen)

    async def list(self, workspace_id: str) -> list[Channel]:
        cursor = self._col.find({"workspace_id": workspace_id}).sort("phone_number_id", 1)
        return [Channel.model_validate(doc) async for doc in cursor]

    async def get(self, workspace_id: str, phone_number_id: str) -> Channel | None:
        doc = await self._col.find_one({"_id": channel_id(workspace_id, phone_number_id)})
        return Channel.model_validate(doc) if doc else None

    async def set_read_receipts(
        self, workspace_id: str, phone_number_id: str, enabled: bool
    ) -> Channel | None:
        doc = await self._col.find_one_and_update(
            {"_id": channel_id(workspace_id, phone_number_id)},
            {"$set": {"read_receipts": enabled}},
            return_document=ReturnDocument.AFTER,
        )
        return Channel.model_validate(doc) if doc else None


class TemplateStore:
    """The read model of whatsapp.templates.v1: each number's approved templates."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("phone_number_id", 1)])

    async def replace(self, workspace_id: str, synced: ChannelTemplates) -> bool:
        """Keep the newest sync only; False when an older one arrives late."""
        doc = synced.model_dump(mode="json") | {"synced_at": synced.synced_at}
        try:
            await self._col.update_one(
                {
                    "_id": channel_id(workspace_id, synced.phone_number_id),
                    "synced_at": {"$lte": synced.synced_at},
                },
                {"$set": doc | {"workspace_id": workspace_id}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def for_channel(self, workspace_id: str, phone_number_id: str) -> ChannelTemplates | None:
        doc = await self._col.find_one({"_id": channel_id(workspace_id, phone_number_id)})
        return ChannelTemplates.model_validate(doc) if doc else None
