"""The `conversations` collection: one document per conversation key, with its list row."""

from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.model import (
    Assignment,
    ContactMatch,
    ConversationRow,
    FilterCounts,
    InboundChange,
    InboundResult,
    LastMessage,
    OutboxItem,
    ReadMark,
    reopens,
)
from inbox.search import ListQuery, phone_keys, search_names
from inbox.store.documents import Document, Outbox, outbox_entries
from inbox.store.queries import (
    LIST_FIELDS,
    filtered,
    inbound_update,
    listed,
    newest_update,
    not_newer_than,
    row_of,
)

NEWEST = [("last_activity_at", DESCENDING), ("_id", DESCENDING)]


class ConversationStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self.outbox = Outbox(collection)

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), *NEWEST])
        await self._col.create_index([("workspace_id", 1), ("phone_number_id", 1), *NEWEST])
        await self._col.create_index([("workspace_id", 1), ("customer.customer_id", 1)])
        await self.outbox.ensure_indexes()

    async def get(self, workspace_id: str, conversation_id: str) -> ConversationRow | None:
        query = {"_id": conversation_id, "workspace_id": workspace_id}
        doc = await self._col.find_one(query, LIST_FIELDS)
        return row_of(doc) if doc else None

    async def record_inbound(self, change: InboundChange) -> InboundResult:
        """Apply a customer message once: a redelivered event id changes nothing.

        The usual message is the newest of its conversation and takes one write; a late one
        fails that write's guard and takes the slower, field-by-field path.
        """
        try:
            before = await self._upsert(change, not_newer_than(change), newest_update(change))
            newest = True
        except DuplicateKeyError:  # an older message than the conversation's, or a redelivery
            try:
                before = await self._upsert(change, {}, inbound_update(change))
            except DuplicateKeyError:
                return await self._seen(change)
            newest = False
        opened = before is None or before.get("last_activity_at") is None
        previous = None if before is None else before.get("last_inbound_at")
        reopened = not opened and change.opens_window and reopens(previous, change.at)
        if opened or reopened:
            opening = {"opened_at": change.at, "opened_by": change.event_id, "reopened": reopened}
            await self._col.update_one({"_id": change.conversation_id}, {"$set": opening})
        if not newest:
            await self._settle_late(change)
        row = await self.get(change.workspace_id, change.conversation_id)
        assert row is not None
        return InboundResult(row=row, opened=opened or reopened, reopened=reopened)

    async def _upsert(
        self, change: InboundChange, condition: Document, update: Document
    ) -> Document | None:
        return await self._col.find_one_and_update(
            {"_id": change.conversation_id, "applied": {"$ne": change.event_id}} | condition,
            update,
            projection={"last_activity_at": 1, "last_inbound_at": 1},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )

    async def _seen(self, change: InboundChange) -> InboundResult:
        row = await self.get(change.workspace_id, change.conversation_id)
        assert row is not None
        opened = row.opened_by == change.event_id
        return InboundResult(row=row, opened=opened, reopened=opened and row.reopened)

    async def _settle_late(self, change: InboundChange) -> None:
        """A late message is still the newest inbound when a reply came after it."""
        at, conversation = change.at, {"_id": change.conversation_id}
        if change.opens_window:
            await self._col.update_one(
                conversation | {"last_inbound_at": at},
                {"$set": {"last_inbound_wamid": change.wamid}},
            )
        if change.awaits_reply:
            unanswered = [{"last_outbound_at": {"$lt": at}}, {"last_outbound_at": None}]
            await self._col.update_one(
                conversation | {"$or": unanswered}, {"$set": {"awaiting_reply": True}}
            )

    async def record_outbound(
        self, workspace_id: str, conversation_id: str, last: LastMessage
    ) -> ConversationRow | None:
        query = {"_id": conversation_id, "workspace_id": workspace_id}
        await self._col.update_one(
            query,
            {
                "$max": {"last_outbound_at": last.at, "last_activity_at": last.at},
                "$set": {"awaiting_reply": False},
            },
        )
        await self._col.update_one(
            query | {"last_activity_at": last.at}, {"$set": {"last_message": last.model_dump()}}
        )
        return await self.get(workspace_id, conversation_id)

    async def mark_read(
        self, workspace_id: str, conversation_id: str, read: ReadMark, outbox: list[OutboxItem]
    ) -> ConversationRow | None:
        sets: Document = {
            "unread_count": 0,
            "last_read_at": read.at,
            "last_read_by": read.by.model_dump(),
        }
        if read.receipt_wamid:
            sets["read_receipt_wamid"] = read.receipt_wamid
        update: Document = {"$set": sets}
        if outbox:
            update["$push"] = {"outbox": {"$each": outbox_entries(outbox)}}
        doc = await self._col.find_one_and_update(
            {"_id": conversation_id, "workspace_id": workspace_id},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return row_of(doc) if doc else None

    async def assign(
        self,
        workspace_id: str,
        expected_id: str | None,
        change: Assignment,
        outbox: list[OutboxItem],
    ) -> ConversationRow | None:
        """Set the assignee if it is still `expected_id`; None when someone changed it first."""
        sets: Document = {
            "assignee": change.assignee.model_dump() if change.assignee else None,
            "assigned_at": change.at,
            "assigned_by": change.by.model_dump(),
        }
        doc = await self._col.find_one_and_update(
            {
                "_id": change.conversation_id,
                "workspace_id": workspace_id,
                "assignee.id": expected_id,
            },
            {"$set": sets, "$push": {"outbox": {"$each": outbox_entries(outbox)}}},
            return_document=ReturnDocument.AFTER,
        )
        return row_of(doc) if doc else None

    async def apply_match(self, match: ContactMatch) -> ConversationRow | None:
        """Who the contact is; an older match than the one kept changes nothing (None)."""
        at = match.customer.matched_at
        newer = [{"customer.matched_at": {"$lte": at}}, {"customer": None}]
        update: Document = {
            "$setOnInsert": {
                "workspace_id": match.workspace_id,
                "conversation_key": match.conversation_key,
                "phone_number_id": match.phone_number_id,
                "created_at": datetime.now(UTC),
            },
            "$set": {"customer": match.customer.model_dump()},
            "$addToSet": {
                "search_names": {"$each": match.names},
                "search_digits": {"$each": phone_keys(match.phone_e164)},
            },
        }
        if match.phone_e164:
            update["$set"]["phone_e164"] = match.phone_e164
        try:
            doc = await self._col.find_one_and_update(
                {"_id": match.conversation_id, "$or": newer},
                update,
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None
        return row_of(doc) if doc else None

    async def rename_customer(
        self, workspace_id: str, customer_id: str, name: str | None, version: int
    ) -> int:
        result = await self._col.update_many(
            {
                "workspace_id": workspace_id,
                "customer.customer_id": customer_id,
                "customer.version": {"$lt": version},
            },
            {
                "$set": {"customer.name": name, "customer.version": version},
                "$addToSet": {"search_names": {"$each": search_names(name)}},
            },
        )
        return result.modified_count

    async def repoint_customer(
        self, workspace_id: str, absorbed_ids: list[str], survivor_id: str, name: str | None
    ) -> int:
        result = await self._col.update_many(
            {"workspace_id": workspace_id, "customer.customer_id": {"$in": absorbed_ids}},
            {
                "$set": {
                    "customer.customer_id": survivor_id,
                    "customer.outcome": "known",
                    "customer.candidate_ids": [],
                    "customer.name": name,
                },
                "$addToSet": {"search_names": {"$each": search_names(name)}},
            },
        )
        return result.modified_count

    async def page(self, workspace_id: str, query: ListQuery) -> list[ConversationRow]:
        where = listed(workspace_id, query) | filtered(query)
        if query.after is not None:
            at, after_id = query.after.at, query.after.id
            where["$or"] = [
                {"last_activity_at": {"$lt": at}},
                {"last_activity_at": at, "_id": {"$lt": after_id}},
            ]
        cursor = self._col.find(where, LIST_FIELDS).sort(NEWEST).limit(query.limit)
        return [row_of(doc) async for doc in cursor]

    async def counts(self, workspace_id: str, query: ListQuery) -> FilterCounts:
        def when(condition: Any) -> Document:
            return {"$sum": {"$cond": [condition, 1, 0]}}

        totals = {
            "_id": None,
            "all": {"$sum": 1},
            "unread": when({"$gt": ["$unread_count", 0]}),
            "mine": when({"$eq": ["$assignee.id", query.agent_id]}),
            "no_reply": when({"$eq": ["$awaiting_reply", True]}),
        }
        pipeline = [{"$match": listed(workspace_id, query)}, {"$group": totals}]
        found = await (await self._col.aggregate(pipeline)).to_list()
        counts = found[0] if found else {}
        return FilterCounts(**{k: counts.get(k, 0) for k in FilterCounts.model_fields})
