"""The `notes` and `activity` collections: the timeline entries that are not messages."""

from datetime import datetime

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.model import OutboxItem
from inbox.search import Cursor
from inbox.store.documents import Document, Outbox, bson, outbox_entries
from inbox.timeline import Activity, Note

NEWEST = [("at", DESCENDING), ("_id", DESCENDING)]
_HIDDEN = {"outbox": 0, "workspace_id": 0, "deleted_at": 0}


def _before(where: Document, before: Cursor | None) -> Document:
    if before is not None:
        where["$or"] = [{"at": {"$lt": before.at}}, {"at": before.at, "_id": {"$lt": before.id}}]
    return where


class NoteStore:
    """A deleted note leaves the timeline; its document stays, marked, for the audit."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self.outbox = Outbox(collection)

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("conversation_id", 1), *NEWEST])
        await self.outbox.ensure_indexes()

    async def add(self, workspace_id: str, note: Note, outbox: list[OutboxItem]) -> bool:
        """False when a note with this id (the same click) exists already."""
        doc = note.model_dump(exclude={"id", "kind"}) | {
            "_id": note.id,
            "workspace_id": workspace_id,
            "deleted_at": None,
            "outbox": outbox_entries(outbox),
        }
        try:
            await self._col.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, workspace_id: str, note_id: str) -> Note | None:
        query = {"_id": note_id, "workspace_id": workspace_id, "deleted_at": None}
        doc = await self._col.find_one(query, _HIDDEN)
        return _note(doc) if doc else None

    async def edit(self, workspace_id: str, note: Note, outbox: list[OutboxItem]) -> Note | None:
        """Only the author's live note changes; None when it was deleted meanwhile."""
        doc = await self._col.find_one_and_update(
            {
                "_id": note.id,
                "workspace_id": workspace_id,
                "author.id": note.author.id,
                "deleted_at": None,
            },
            {
                "$set": {"body": note.body, "edited_at": note.edited_at},
                "$push": {"outbox": {"$each": outbox_entries(outbox)}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return _note(doc) if doc else None

    async def delete(
        self, workspace_id: str, note: Note, at: datetime, outbox: list[OutboxItem]
    ) -> bool:
        result = await self._col.update_one(
            {
                "_id": note.id,
                "workspace_id": workspace_id,
                "author.id": note.author.id,
                "deleted_at": None,
            },
            {"$set": {"deleted_at": at}, "$push": {"outbox": {"$each": outbox_entries(outbox)}}},
        )
        return result.modified_count == 1

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Note]:
        """Newest first, from just before the cursor."""
        where: Document = {"workspace_id": workspace_id, "conversation_id": conversation_id}
        where["deleted_at"] = None
        cursor = self._col.find(_before(where, before), _HIDDEN).sort(NEWEST).limit(limit)
        return [_note(doc) async for doc in cursor]


class ActivityStore:
    """One entry per cause (its id derives from the event): a redelivery adds nothing."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("conversation_id", 1), *NEWEST])

    async def record(self, workspace_id: str, activity: Activity) -> bool:
        doc = bson(activity.model_dump(exclude={"id", "kind"}))
        try:
            await self._col.insert_one(doc | {"_id": activity.id, "workspace_id": workspace_id})
        except DuplicateKeyError:
            return False
        return True

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Activity]:
        where = {"workspace_id": workspace_id, "conversation_id": conversation_id}
        cursor = self._col.find(_before(where, before), {"workspace_id": 0})
        return [_activity(doc) async for doc in cursor.sort(NEWEST).limit(limit)]


def _note(doc: Document) -> Note:
    shown = {key: value for key, value in doc.items() if key not in _HIDDEN}
    return Note.model_validate(shown | {"id": doc["_id"]})


def _activity(doc: Document) -> Activity:
    return Activity.model_validate(doc | {"id": doc["_id"]})
