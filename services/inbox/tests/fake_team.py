"""Dict-backed stand-ins for notes, the activity trail, the content library and the roster."""

from datetime import datetime
from typing import Any

import httpx

from inbox.library.model import LibraryItem, LibraryQuery, MediaRef
from inbox.notes.model import Note
from inbox.team.model import Activity, TeamMember
from inbox.values import Cursor, Person, fold

from .fake_messages import FakeOutbox

Doc = dict[str, Any]


def _newest(items: list[Any], before: Cursor | None, limit: int) -> list[Any]:
    items.sort(key=lambda item: (item.at, item.id), reverse=True)
    if before is not None:
        items = [i for i in items if (i.at, i.id) < (before.at, before.id)]
    return items[:limit]


class FakeNotes:
    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.outbox = FakeOutbox(self.docs, "notes")

    async def ensure_indexes(self) -> None:
        return None

    async def add(self, workspace_id: str, note: Note, outbox: list[Doc]) -> bool:
        if note.id in self.docs:
            return False
        self.docs[note.id] = {
            "ws": workspace_id,
            "note": note,
            "deleted_at": None,
            "outbox": list(outbox),
        }
        return True

    def _live(self, workspace_id: str, note_id: str, author: str | None = None) -> Doc | None:
        doc = self.docs.get(note_id)
        if doc is None or doc["ws"] != workspace_id or doc["deleted_at"] is not None:
            return None
        return doc if author is None or doc["note"].author.id == author else None

    async def get(self, workspace_id: str, note_id: str) -> Note | None:
        doc = self._live(workspace_id, note_id)
        return doc["note"] if doc else None

    async def edit(self, workspace_id: str, note: Note, outbox: list[Doc]) -> Note | None:
        doc = self._live(workspace_id, note.id, note.author.id)
        if doc is None:
            return None
        doc["note"] = doc["note"].model_copy(
            update={"body": note.body, "edited_at": note.edited_at}
        )
        doc["outbox"] += outbox
        edited: Note = doc["note"]
        return edited

    async def delete(self, workspace_id: str, note: Note, at: datetime, outbox: list[Doc]) -> bool:
        doc = self._live(workspace_id, note.id, note.author.id)
        if doc is None:
            return False
        doc["deleted_at"] = at
        doc["outbox"] += outbox
        return True

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Note]:
        notes = [
            d["note"]
            for d in self.docs.values()
            if d["ws"] == workspace_id
            and d["deleted_at"] is None
            and d["note"].conversation_id == conversation_id
        ]
        return _newest(notes, before, limit)


class FakeActivity:
    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, Activity]] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def record(self, workspace_id: str, activity: Activity) -> bool:
        if activity.id in self.docs:
            return False
        self.docs[activity.id] = (workspace_id, activity)
        return True

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Activity]:
        found = [
            a
            for ws, a in self.docs.values()
            if ws == workspace_id and a.conversation_id == conversation_id
        ]
        return _newest(found, before, limit)


class FakeLibrary:
    def __init__(self) -> None:
        self.items: dict[str, tuple[str, LibraryItem]] = {}
        self.files: dict[str, bytes] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def add(
        self, workspace_id: str, item: LibraryItem, content: bytes
    ) -> tuple[LibraryItem, bool]:
        if (kept := await self.get(workspace_id, item.id)) is not None:
            return kept, False
        self.items[item.id], self.files[item.id] = (workspace_id, item), content
        return item, True

    async def get(self, workspace_id: str, item_id: str) -> LibraryItem | None:
        ws, item = self.items.get(item_id, ("", None))
        return item if ws == workspace_id else None

    async def page(self, workspace_id: str, query: LibraryQuery) -> list[LibraryItem]:
        found = [
            item
            for ws, item in self.items.values()
            if ws == workspace_id
            and (not query.text or query.text in fold(item.name))
            and (not query.kind or item.kind == query.kind)
        ]
        found.sort(key=lambda item: (item.added_at, item.id), reverse=True)
        if query.after is not None:
            after = (query.after.at, query.after.id)
            found = [item for item in found if (item.added_at, item.id) < after]
        return found[: query.limit]

    async def content(self, item_id: str) -> bytes:
        return self.files[item_id]

    async def remember_media(
        self, workspace_id: str, item_id: str, phone_number_id: str, ref: MediaRef
    ) -> LibraryItem | None:
        item = await self.get(workspace_id, item_id)
        if item is None:
            return None
        updated = item.model_copy(update={"media": item.media | {phone_number_id: ref}})
        self.items[item_id] = (workspace_id, updated)
        return updated

    async def delete(self, workspace_id: str, item_id: str) -> bool:
        if await self.get(workspace_id, item_id) is None:
            return False
        del self.items[item_id], self.files[item_id]
        return True


class FakeAgents:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], TeamMember] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def seen(self, workspace_id: str, agent: Person, at: datetime) -> None:
        kept = self.docs.get((workspace_id, agent.id))
        last = max(at, kept.last_seen_at) if kept else at
        self.docs[(workspace_id, agent.id)] = TeamMember(
            id=agent.id, name=agent.name, last_seen_at=last
        )

    async def list(self, workspace_id: str) -> list[TeamMember]:
        found = [m for (ws, _), m in self.docs.items() if ws == workspace_id]
        return sorted(found, key=lambda m: m.name)


class FakeIngest:
    """Ingest's media upload API as an httpx transport: records each upload, or fails."""

    def __init__(self) -> None:
        self.uploads: list[dict[str, Any]] = []
        self.failing: int | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.failing is not None:
            error = {"code": "graph_error", "message": "Meta refused the media request"}
            return httpx.Response(self.failing, json=error)
        self.uploads.append(
            {
                "path": request.url.path,
                "filename": request.url.params["filename"],
                "content_type": request.headers["content-type"],
                "authorization": request.headers["authorization"],
                "size": len(request.content),
            }
        )
        media_id = f"meta-media-{len(self.uploads)}"
        return httpx.Response(201, json={"media_id": media_id, "size": len(request.content)})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url="http://ingest", transport=httpx.MockTransport(self.handle)
        )


class FakeReader:
    """The topic read back: what a test says Kafka holds, or None (too far back)."""

    def __init__(self) -> None:
        self.records: list[tuple[int, int, bytes]] | None = None
        self.asked: list[tuple[dict[int, int], dict[int, int]]] = []

    async def read(
        self, workspace_id: str, floor: dict[int, int], until: dict[int, int]
    ) -> list[tuple[int, int, bytes]] | None:
        self.asked.append((floor, until))
        if self.records is None:
            return None
        return [r for r in self.records if floor.get(r[0], 0) <= r[1] < until.get(r[0], 0)]
