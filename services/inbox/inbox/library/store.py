"""The content library: `library_items` (what the team sees) and `library_chunks` (the bytes)."""

import re

from bson import Binary
from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.documents import Document
from inbox.library.model import LibraryItem, LibraryQuery, MediaRef
from inbox.values import fold

NEWEST = [("added_at", DESCENDING), ("_id", DESCENDING)]
# Well under the 16 MB document limit, and small enough to stream a file chunk by chunk.
CHUNK_BYTES = 1024 * 1024
_HIDDEN = {"workspace_id": 0, "search_name": 0}


class LibraryStore:
    """Chunks are written first and the item last, so a listed item always has its whole file."""

    def __init__(self, items: AsyncCollection[Document], chunks: AsyncCollection[Document]) -> None:
        self._items, self._chunks = items, chunks

    async def ensure_indexes(self) -> None:
        await self._items.create_index([("workspace_id", 1), *NEWEST])
        await self._chunks.create_index([("item_id", 1), ("n", 1)])

    async def add(
        self, workspace_id: str, item: LibraryItem, content: bytes
    ) -> tuple[LibraryItem, bool]:
        """Store a file once: the same file again returns the item already kept (and False)."""
        if (kept := await self.get(workspace_id, item.id)) is not None:
            return kept, False
        for n, start in enumerate(range(0, len(content), CHUNK_BYTES)):
            chunk = {
                "item_id": item.id,
                "n": n,
                "data": Binary(content[start : start + CHUNK_BYTES]),
            }
            await self._chunks.replace_one({"_id": f"{item.id}:{n}"}, chunk, upsert=True)
        doc = item.model_dump(exclude={"id"}) | {
            "_id": item.id,
            "workspace_id": workspace_id,
            "search_name": fold(item.name),
        }
        try:
            await self._items.insert_one(doc)
        except DuplicateKeyError:  # a concurrent upload of the same file won
            found = await self.get(workspace_id, item.id)
            assert found is not None
            return found, False
        return item, True

    async def get(self, workspace_id: str, item_id: str) -> LibraryItem | None:
        doc = await self._items.find_one({"_id": item_id, "workspace_id": workspace_id}, _HIDDEN)
        return _item(doc) if doc else None

    async def page(self, workspace_id: str, query: LibraryQuery) -> list[LibraryItem]:
        where: Document = {"workspace_id": workspace_id}
        if query.text:
            where["search_name"] = {"$regex": re.escape(query.text)}
        if query.kind:
            where["kind"] = query.kind
        if query.after is not None:
            at, after_id = query.after.at, query.after.id
            where["$or"] = [
                {"added_at": {"$lt": at}},
                {"added_at": at, "_id": {"$lt": after_id}},
            ]
        cursor = self._items.find(where, _HIDDEN).sort(NEWEST).limit(query.limit)
        return [_item(doc) async for doc in cursor]

    async def content(self, item_id: str) -> bytes:
        cursor = self._chunks.find({"item_id": item_id}).sort("n", 1)
        return b"".join([bytes(doc["data"]) async for doc in cursor])

    async def remember_media(
        self, workspace_id: str, item_id: str, phone_number_id: str, ref: MediaRef
    ) -> LibraryItem | None:
        doc = await self._items.find_one_and_update(
            {"_id": item_id, "workspace_id": workspace_id},
            {"$set": {f"media.{phone_number_id}": ref.model_dump()}},
            return_document=ReturnDocument.AFTER,
        )
        return _item(doc) if doc else None

    async def delete(self, workspace_id: str, item_id: str) -> bool:
        result = await self._items.delete_one({"_id": item_id, "workspace_id": workspace_id})
        if result.deleted_count:
            await self._chunks.delete_many({"item_id": item_id})
        return result.deleted_count == 1


def _item(doc: Document) -> LibraryItem:
    shown = {key: value for key, value in doc.items() if key not in _HIDDEN}
    return LibraryItem.model_validate(shown | {"id": doc["_id"]})
