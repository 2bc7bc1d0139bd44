"""The `conversations` collection: one document per conversation key, with its list row."""

from datetime import UTC, datetime, timedelta

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hanout_shared.platform.outbox import Outbox
from inbox.conversations.model import (
    Assignment,
    ContactMatch,
    ConversationRow,
    FilterCounts,
    InboundChange,
    InboundResult,
    LastMessage,
    ReadMark,
)
from inbox.conversations.search import ListQuery, phone_keys, search_names
from inbox.conversations.store.batched import BatchWriter
from inbox.conversations.store.finder import SearchIndex
from inbox.conversations.store.inbound import InboundWriter
from inbox.conversations.store.listing import (
    BOTTOM,
    ListCounts,
    ListPages,
    list_keys,
    lists_in,
    mine,
    searched_counts,
)
from inbox.conversations.store.queries import LIST_FIELDS, UNCOUNTED, row_of, uncounted_mark
from inbox.documents import Document

LISTED = [("lists", 1), ("last_activity_at", DESCENDING)]
SEARCHED = {"workspace_id": 1, "search_names": 1, "search_digits": 1}
BACKFILL_BATCH = 500
RECONCILED_BATCH = 1000


ASSIGN_TRIES = 20


class ConversationStore:
    """Conversations; a read or an assignment stores its events in the conversation's `outbox`
    (platform entries, from `outbox_entries`) until the relay publishes them.

    A write that moves a conversation between lists marks it `uncounted` (with its time) in that
    same write, moves the counts, then clears its mark: a crash in between leaves the mark, and
    `reconcile_counts` recounts the workspace once the mark is older than any write takes.
    """

    def __init__(
        self,
        collection: AsyncCollection[Document],
        counts: AsyncCollection[Document],
        search: AsyncCollection[Document],
        common: AsyncCollection[Document],
    ) -> None:
        self._col = collection
        self.outbox = Outbox(collection)
        self.counts = ListCounts(counts)
        self.search = SearchIndex(search, common)
        self._inbound = InboundWriter(collection, self.counts, self.search)
        self._batched = BatchWriter(collection, self.counts, self.search, self._inbound)
        self._pages = ListPages(collection, self.counts, self.search)

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), *LISTED])
        await self._col.create_index([("workspace_id", 1), ("phone_number_id", 1), *LISTED])
        await self._col.create_index([("workspace_id", 1), ("customer.customer_id", 1)])
        await self._col.create_index(UNCOUNTED)  # for the counts' reconciler
        await self.outbox.ensure_indexes()
        await self.search.ensure_indexes()
        await self._backfill_lists()
        await self._backfill_search()

    async def _backfill_lists(self) -> None:
        """Conversations written before lists existed join them (once: then none lack them)."""
        where = {"lists": None, "last_activity_at": {"$gt": BOTTOM}}
        async for doc in self._col.find(where, LIST_FIELDS):
            lists, mark = list_keys(row_of(doc)), uncounted_mark()
            done = await self._col.update_one(
                {"_id": doc["_id"], "lists": None}, {"$set": {"lists": lists, UNCOUNTED: mark}}
            )
            if done.modified_count:
                await self.counts.shift(doc, [], lists)
                await self._counted(doc["_id"], mark)

    async def _backfill_search(self) -> None:
        """Conversations written before the search index existed enter it (once)."""
        if await self.search.backfilled():
            return
        batch: list[Document] = []
        async for doc in self._col.find({}, SEARCHED):
            batch.append(doc)
            if len(batch) == BACKFILL_BATCH:
                await self.search.add_many(batch)
                batch = []
        await self.search.add_many(batch)
        await self.search.mark_backfilled()

    async def get(self, workspace_id: str, conversation_id: str) -> ConversationRow | None:
        query = {"_id": conversation_id, "workspace_id": workspace_id}
        doc = await self._col.find_one(query, LIST_FIELDS)
        return row_of(doc) if doc else None

    async def record_inbound(self, change: InboundChange) -> InboundResult:
        """Apply a customer message once: a redelivered event id changes nothing."""
        return await self._inbound.record(change)

    async def record_inbound_many(self, changes: list[InboundChange]) -> list[InboundResult]:
        """Customers' messages of a batch, in offset order: one result per change."""
        return await self._batched.record(changes) if changes else []

    async def record_outbound(
        self, workspace_id: str, conversation_id: str, last: LastMessage
    ) -> ConversationRow | None:
        query, mark = {"_id": conversation_id, "workspace_id": workspace_id}, uncounted_mark()
        before = await self._col.find_one_and_update(
            query,
            {
                "$max": {"last_outbound_at": last.at, "last_activity_at": last.at},
                "$set": {"awaiting_reply": False, UNCOUNTED: mark},
                "$pull": {"lists": "no_reply"},
            },
        )
        if before is None:
            return None
        await self.counts.shift(before, lists_in(before), set(lists_in(before)) - {"no_reply"})
        await self._counted(conversation_id, mark)
        await self._col.update_one(
            query | {"last_activity_at": last.at}, {"$set": {"last_message": last.model_dump()}}
        )
        return await self.get(workspace_id, conversation_id)

    async def mark_read(
        self, workspace_id: str, conversation_id: str, read: ReadMark, outbox: list[Document]
    ) -> ConversationRow | None:
        sets: Document = {
            "unread_count": 0,
            "last_read_at": read.at,
            "last_read_by": read.by.model_dump(),
        }
        if read.receipt_wamid:
            sets["read_receipt_wamid"] = read.receipt_wamid
        mark = uncounted_mark()
        update: Document = {"$set": sets | {UNCOUNTED: mark}}
        if outbox:
            update["$push"] = {"outbox": {"$each": outbox}}
        update["$pull"] = {"lists": "unread"}
        before = await self._col.find_one_and_update(
            {"_id": conversation_id, "workspace_id": workspace_id}, update
        )
        if before is None:
            return None
        after = set(lists_in(before)) - {"unread"}
        await self.counts.shift(before, lists_in(before), after)
        await self._counted(conversation_id, mark)
        return row_of(before | sets)

    async def assign(
        self,
        workspace_id: str,
        expected_id: str | None,
        change: Assignment,
        outbox: list[Document],
    ) -> ConversationRow | None:
        """Set the assignee if it is still `expected_id`; None when someone changed it first."""
        sets: Document = {
            "assignee": change.assignee.model_dump() if change.assignee else None,
            "assigned_at": change.at,
            "assigned_by": change.by.model_dump(),
        }
        where = {"_id": change.conversation_id, "workspace_id": workspace_id}
        for _ in range(ASSIGN_TRIES):
            doc = await self._col.find_one(where | {"assignee.id": expected_id}, LIST_FIELDS)
            if doc is None:
                return None
            had = doc.get("lists")
            lists = sorted(set(had or []) - {mine(expected_id or "")})
            if change.assignee is not None and "all" in lists:
                lists = sorted({*lists, mine(change.assignee.id)})
            mark = uncounted_mark() if set(had or []) != set(lists) else None
            marked = {UNCOUNTED: mark} if mark else {}
            # Compare-and-set on the lists too: an inbound message may move them meanwhile.
            done = await self._col.update_one(
                where | {"assignee.id": expected_id, "lists": had},
                {
                    "$set": sets | {"lists": lists} | marked,
                    "$push": {"outbox": {"$each": outbox}},
                },
            )
            if done.modified_count:
                await self.counts.shift(doc, had or [], lists)
                if mark:
                    await self._counted(change.conversation_id, mark)
                return row_of(doc | sets)
        raise RuntimeError(f"conversation {change.conversation_id} kept changing while assigned")

    async def apply_match(self, match: ContactMatch) -> ConversationRow | None:
        """Who the contact is; an older match than the one kept changes nothing (None)."""
        at = match.customer.matched_at
        not_newer = {"customer.matched_at": {"$not": {"$gt": at}}}  # no `$or`: see not_newer_than
        digits = phone_keys(match.customer_phone_e164)
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
                "search_digits": {"$each": digits},
            },
        }
        try:
            doc = await self._col.find_one_and_update(
                {"_id": match.conversation_id} | not_newer,
                update,
                # A match from before matches named their number makes no row of its own.
                upsert=match.phone_number_id is not None,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None
        if doc is None:
            return None
        await self.search.add(doc["_id"], doc["workspace_id"], match.names, digits)
        return row_of(doc)

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
        await self._index_name(workspace_id, [customer_id], name)
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
        await self._index_name(workspace_id, [survivor_id], name)
        return result.modified_count

    async def _index_name(
        self, workspace_id: str, customer_ids: list[str], name: str | None
    ) -> None:
        where = {"workspace_id": workspace_id, "customer.customer_id": {"$in": customer_ids}}
        for found in await self._col.find(where, {"_id": 1}).to_list():
            await self.search.add(found["_id"], workspace_id, search_names(name), [])

    async def page(self, workspace_id: str, query: ListQuery) -> list[ConversationRow]:
        return await self._pages.page(workspace_id, query)

    async def recount(self, workspace_id: str) -> None:
        await self.counts.recount(self._col, workspace_id)

    async def _counted(self, conversation_id: str, mark: datetime | bool) -> None:
        """Clear this write's mark (a later write's own mark stays for that write to clear)."""
        await self._col.update_one(
            {"_id": conversation_id, UNCOUNTED: mark}, {"$unset": {UNCOUNTED: ""}}
        )

    async def reconcile_counts(self, grace: timedelta) -> list[str]:
        """Recount the workspaces of conversations marked `uncounted` longer than `grace` ago (a
        crash came between their write and their counts), then clear those marks; the
        workspaces recounted. A batch's mark (its receipt) is left to the batch (see `batched`)."""
        cutoff = datetime.now(UTC) - grace
        stale: list[Document] = []
        for where in ({UNCOUNTED: {"$lt": cutoff}}, {UNCOUNTED: True}):
            found = self._col.find(where, {"workspace_id": 1, UNCOUNTED: 1})
            stale += [doc async for doc in found.limit(RECONCILED_BATCH) if _stale(doc, cutoff)]
        workspaces = sorted({doc["workspace_id"] for doc in stale})
        for workspace_id in workspaces:
            await self.counts.recount(self._col, workspace_id)
            # A write under way in the workspace may move its counts after the recount read its
            # conversation: its marks stay, and the next sweep recounts again.
            if await self._col.find_one(
                {UNCOUNTED: {"$gte": cutoff}, "workspace_id": workspace_id}
            ):
                continue
            for doc in stale:  # a mark set again since it was read belongs to a write under way
                if doc["workspace_id"] == workspace_id:
                    await self._counted(doc["_id"], doc[UNCOUNTED])
        return workspaces

    async def counts_of(self, workspace_id: str, query: ListQuery) -> FilterCounts:
        if query.search is not None:
            return await searched_counts(self._col, self.search, workspace_id, query)
        return await self.counts.read(workspace_id, query)


def _stale(doc: Document, cutoff: datetime) -> bool:
    mark = doc.get(UNCOUNTED)
    if isinstance(mark, datetime):
        return mark.replace(tzinfo=UTC) < cutoff
    return mark is True
