"""The `notes` collection: internal notes, each written with the events that announce it."""

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hanout_shared.platform.outbox import Outbox
from inbox.documents import NEWEST, Document, older_than
from inbox.notes.model import Note
from inbox.values import Cursor

_HIDDEN = {"outbox": 0, "outbox_lease": 0, "workspace_id": 0, "deleted_at": 0}


class NoteStore:
    """A deleted note leaves the timeline; its document stays, marked, for the audit. Each
    write stores its event in the note's `outbox` (platform entries, from `outbox_entries`)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self.outbox = Outbox(collection)

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("conversation_id", 1), *NEWEST])
        await self.outbox.ensure_indexes()

    async def add(self, workspace_id: str, note: Note, outbox: list[Document]) -> bool:
        """False when a note with this id (the same click) exists already."""
        doc = note.model_dump(exclude={"id", "kind"}) | {
            "_id": note.id,
            "workspace_id": workspace_id,
            "deleted_at": None,
            "outbox": outbox,
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

    async def edit(self, workspace_id: str, note: Note, outbox: list[Document]) -> Note | None:
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
                "$push": {"outbox": {"$each": outbox}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return _note(doc) if doc else None

    async def delete(
        self, workspace_id: str, note: Note, at: datetime, outbox: list[Document]
    ) -> bool:
        result = await self._col.update_one(
            {
                "_id": note.id,
                "workspace_id": workspace_id,
                "author.id": note.author.id,
                "deleted_at": None,
            },
            {"$set": {"deleted_at": at}, "$push": {"outbox": {"$each": outbox}}},
        )
        return result.modified_count == 1

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Note]:
        """Newest first, from just before the cursor."""
        where: Document = {"workspace_id": workspace_id, "conversation_id": conversation_id}
        where["deleted_at"] = None
        cursor = self._col.find(older_than(where, before), _HIDDEN).sort(NEWEST).limit(limit)
        return [_note(doc) async for doc in cursor]


def _note(doc: Document) -> Note:
    shown = {key: value for key, value in doc.items() if key not in _HIDDEN}
    return Note.model_validate(shown | {"id": doc["_id"]})
