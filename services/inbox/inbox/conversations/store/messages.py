"""The `messages` collection: a conversation's timeline, and each send's delivery status."""

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hanout_shared.platform.outbox import Outbox
from inbox.conversations.messages import (
    FAILED,
    RANK,
    Failure,
    Message,
    Send,
    StatusWrite,
    Tick,
    status_name,
)
from inbox.documents import NEWEST, Document, bson, older_than
from inbox.values import Cursor, to_ms

logger = logging.getLogger("hanout.inbox.store")
DUPLICATE_KEY = 11000
_HIDDEN = {"outbox": 0, "outbox_lease": 0, "fingerprint": 0, "previous_attempts": 0}
_HIDDEN_SEND = {"outbox": 0, "outbox_lease": 0, "previous_attempts": 0}


class MessageStore:
    """Messages; a send carries its command and event in its `outbox` until the relay
    publishes them (platform entries, from `outbox_entries`)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self.outbox = Outbox(collection)

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("conversation_id", 1), *NEWEST])
        await self._col.create_index([("workspace_id", 1), ("wamid", 1)])
        # One message per wamid: `wamid_key` exists only while the wamid is known (a sparse
        # index, which every store has, where a partial one is not on FerretDB).
        await self._col.create_index("wamid_key", unique=True, sparse=True)
        await self._col.create_index([("workspace_id", 1), ("send_key", 1)])
        await self.outbox.ensure_indexes()

    async def add_inbound(self, workspace_id: str, message: Message) -> bool:
        """Store a customer's message once (its id derives from the wamid); False if seen."""
        try:
            await self._col.insert_one(_document(workspace_id, message))
        except DuplicateKeyError:
            return False
        return True

    async def add_inbound_many(self, messages: list[tuple[str, Message]]) -> None:
        """`add_inbound` for a batch of (workspace, message), in one write."""
        if not messages:
            return
        try:
            await self._col.insert_many([_document(ws, m) for ws, m in messages], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def add_send(self, workspace_id: str, send: Send, outbox: list[Document]) -> bool:
        """Store an agent's send with its command in one write; False if the key was used."""
        doc = _document(workspace_id, send.message) | {
            "send_key": send.send_key,
            "fingerprint": send.fingerprint,
            "outbox": outbox,
        }
        try:
            await self._col.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, workspace_id: str, message_id: str) -> Message | None:
        doc = await self._col.find_one({"_id": message_id, "workspace_id": workspace_id}, _HIDDEN)
        return _message(doc) if doc else None

    async def get_send(self, workspace_id: str, message_id: str) -> Send | None:
        query = {"_id": message_id, "workspace_id": workspace_id, "send_key": {"$exists": True}}
        doc = await self._col.find_one(query, {"outbox": 0, "outbox_lease": 0})
        if doc is None:
            return None
        message = _message(doc)
        return Send(message=message, send_key=doc["send_key"], fingerprint=doc["fingerprint"])

    async def by_wamid(self, workspace_id: str, wamid: str) -> Message | None:
        doc = await self._col.find_one({"workspace_id": workspace_id, "wamid": wamid}, _HIDDEN)
        return _message(doc) if doc else None

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Message]:
        """Newest first, from just before the cursor."""
        where = {"workspace_id": workspace_id, "conversation_id": conversation_id}
        cursor = self._col.find(older_than(where, before), _HIDDEN).sort(NEWEST).limit(limit)
        return [_message(doc) async for doc in cursor]

    async def link_accepted(
        self, workspace_id: str, send_key: str, wamid: str, at: datetime
    ) -> Message | None:
        """Meta took the send of this attempt: its wamid is how statuses will name it."""
        try:
            doc = await self._col.find_one_and_update(
                {"workspace_id": workspace_id, "send_key": send_key},
                {
                    "$set": {"wamid": wamid, "wamid_key": wamid_key(workspace_id, wamid)},
                    "$max": {"status_rank": RANK["accepted"]},
                    "$min": {"status_times.accepted": at},
                },
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            logger.warning("a wamid is already linked to another message", extra={"wamid": wamid})
            return None
        return _message(doc) if doc else None

    async def apply_tick(self, workspace_id: str, wamid: str, tick: Tick) -> Message | None:
        """Record a status's time; the status itself only ever moves forward."""
        update: Document = {"$min": {f"status_times.{tick.status}": tick.at}}
        if tick.status in RANK:
            update["$max"] = {"status_rank": RANK[tick.status]}
        if tick.error is not None:
            update["$set"] = {"error": tick.error.model_dump(), "failure_reason": "meta_error"}
        doc = await self._col.find_one_and_update(
            {"workspace_id": workspace_id, "wamid": wamid, "direction": "outbound"},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    async def for_statuses(
        self, workspace_id: str, send_keys: list[str], wamids: list[str]
    ) -> list[tuple[Message, str | None]]:
        """The messages a batch of statuses names (by send key or wamid), with their send key."""
        found: dict[str, Document] = {}
        if send_keys:
            by_key = {"workspace_id": workspace_id, "send_key": {"$in": send_keys}}
            found |= {doc["_id"]: doc async for doc in self._col.find(by_key, _HIDDEN_SEND)}
        if wamids:
            by_wamid = {"wamid_key": {"$in": [wamid_key(workspace_id, w) for w in wamids]}}
            found |= {doc["_id"]: doc async for doc in self._col.find(by_wamid, _HIDDEN_SEND)}
        return [(_message(doc), doc.get("send_key")) for doc in found.values()]

    async def apply_statuses(self, workspace_id: str, writes: list[StatusWrite]) -> None:
        """A batch's statuses in one write: times only go down, ranks only up."""
        updates = [_status_update(workspace_id, write) for write in writes]
        if updates:
            await self._col.bulk_write(updates, ordered=False)

    async def mark_failed(
        self, workspace_id: str, send_key: str, failure: Failure
    ) -> Message | None:
        doc = await self._col.find_one_and_update(
            {"workspace_id": workspace_id, "send_key": send_key},
            {
                "$max": {"status_rank": FAILED},
                "$min": {"status_times.failed": failure.at},
                "$set": {
                    "error": failure.error.model_dump(),
                    "failure_reason": failure.reason,
                    "retryable": failure.retryable,
                },
            },
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    async def start_retry(
        self, workspace_id: str, failed: Send, send_key: str, at: datetime, outbox: list[Document]
    ) -> Message | None:
        """A failed send becomes pending again under a new key; None if it is not failed now."""
        message = failed.message
        doc = await self._col.find_one_and_update(
            {
                "_id": message.id,
                "workspace_id": workspace_id,
                "status_rank": FAILED,
                "attempt": message.attempt,
            },
            {
                "$set": {
                    "status_rank": RANK["pending"],
                    "status_times": {"pending": to_ms(at)},
                    "attempt": message.attempt + 1,
                    "send_key": send_key,
                    "wamid": None,
                    "error": None,
                    "failure_reason": None,
                    "retryable": None,
                },
                "$unset": {"wamid_key": ""},
                "$push": {
                    "outbox": {"$each": outbox},
                    "previous_attempts": bson(
                        {"send_key": failed.send_key, **message.model_dump(include=_ATTEMPT)}
                    ),
                },
            },
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    async def revoke(self, workspace_id: str, wamid: str) -> Message | None:
        doc = await self._col.find_one_and_update(
            {"workspace_id": workspace_id, "wamid": wamid},
            {"$set": {"revoked": True}},
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None


def _status_update(workspace_id: str, write: StatusWrite) -> UpdateOne:
    update: Document = {}
    if write.times:
        update["$min"] = {f"status_times.{status}": at for status, at in write.times.items()}
    if write.rank is not None:
        update["$max"] = {"status_rank": write.rank}
    sets = {name: bson(_plain(value)) for name, value in write.fields.items()}
    if write.linked_wamid is not None:
        sets |= {
            "wamid": write.linked_wamid,
            "wamid_key": wamid_key(workspace_id, write.linked_wamid),
        }
    if sets:
        update["$set"] = sets
    return UpdateOne({"_id": write.message_id, "workspace_id": workspace_id}, update)


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


_ATTEMPT = {"attempt", "wamid", "status_times", "error", "failure_reason"}


def wamid_key(workspace_id: str, wamid: str) -> str:
    return f"{workspace_id}/{wamid}"


def _document(workspace_id: str, message: Message) -> Document:
    fields: Document = bson(message.model_dump(exclude={"id", "status", "reactions"}))
    rank = RANK[message.status] if message.status in RANK else None
    if message.wamid:
        fields["wamid_key"] = wamid_key(workspace_id, message.wamid)
    return fields | {"_id": message.id, "workspace_id": workspace_id, "status_rank": rank}


def _message(doc: Document) -> Message:
    fields = {key: value for key, value in doc.items() if key in Message.model_fields}
    rank = doc.get("status_rank")
    status = status_name(rank) if isinstance(rank, int) else None
    return Message.model_validate(fields | {"id": doc["_id"], "status": status})
