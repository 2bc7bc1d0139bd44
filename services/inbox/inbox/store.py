"""The inbox's MongoDB collections (the only module that imports pymongo)."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from inbox.model import Conversation

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class ConversationStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._conversations = db["conversations"]
        self._messages = db["messages"]

    async def ensure_indexes(self) -> None:
        await self._messages.create_index([("wamid", ASCENDING)], unique=True)
        await self._conversations.create_index(
            [("workspace_id", ASCENDING), ("last_message_at", DESCENDING)]
        )

    async def record_inbound(
        self,
        *,
        conversation_id: str,
        workspace_id: str,
        phone_number_id: str,
        contact_id: str,
        display_name: str,
        wamid: str,
        preview: str,
        sent_at: datetime,
    ) -> bool:
        """Store the message once (unique on wamid) and bump its conversation; False if seen."""
        try:
            await self._messages.insert_one(
                {
                    "wamid": wamid,
                    "conversation_id": conversation_id,
                    "workspace_id": workspace_id,
                    "sent_at": sent_at,
                    "preview": preview,
                }
            )
        except DuplicateKeyError:
            return False
        await self._conversations.update_one(
            {"_id": conversation_id},
            {
                "$setOnInsert": {
                    "workspace_id": workspace_id,
                    "phone_number_id": phone_number_id,
                    "contact_id": contact_id,
                },
                "$set": {"display_name": display_name},
                "$max": {"last_message_at": sent_at},
                "$inc": {"unread_count": 1},
            },
            upsert=True,
        )
        # One conversation lives on one partition, so no other write races between these two.
        await self._conversations.update_one(
            {"_id": conversation_id, "last_message_at": sent_at},
            {"$set": {"last_message_preview": preview}},
        )
        return True

    async def list_for_workspace(self, workspace_id: str, limit: int) -> list[Conversation]:
        cursor = self._conversations.find({"workspace_id": workspace_id})
        cursor = cursor.sort("last_message_at", DESCENDING).limit(limit)
        return [_conversation(doc) async for doc in cursor]


def _conversation(doc: Document) -> Conversation:
    fields = {k: v for k, v in doc.items() if k in Conversation.model_fields}
    fields.setdefault("last_message_preview", "")
    return Conversation(id=doc["_id"], **fields)
