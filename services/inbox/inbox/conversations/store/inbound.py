"""A customer's message applied to its conversation document, once per event id."""

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.conversations.model import ConversationRow, InboundChange, InboundResult, reopens
from inbox.conversations.search import phone_keys, search_names
from inbox.conversations.store.finder import SearchIndex
from inbox.conversations.store.listing import ListCounts, lists_in
from inbox.conversations.store.queries import (
    LIST_FIELDS,
    UNCOUNTED,
    applied,
    inbound_update,
    newest_update,
    not_newer_than,
    row_of,
    uncounted_mark,
)
from inbox.documents import Document


class InboundWriter:
    """The usual message is the newest of its conversation: one write, whose document before
    gives the row after (nothing is read back). A late one fails that write's guard and takes
    the slower, field-by-field path."""

    def __init__(
        self, collection: AsyncCollection[Document], counts: ListCounts, finder: SearchIndex
    ) -> None:
        self._col = collection
        self._counts = counts
        self._finder = finder

    async def record(self, change: InboundChange) -> InboundResult:
        update = first_update(change)
        try:
            before = await self._upsert(change, not_newer_than(change), update)
        except DuplicateKeyError:  # an older message than the conversation's, or a redelivery
            return await self._record_late(change)
        after = applied(before, change, update)
        opened, reopened = _opening(before, change)
        if before is not None and (opened or reopened):
            after |= await self._open(change, reopened)
        await self._counts.shift(after, lists_in(before), after["lists"])
        await self._counted(change)
        await self._index(change, before)
        return InboundResult(row=row_of(after), opened=opened or reopened, reopened=reopened)

    async def _open(self, change: InboundChange, reopened: bool) -> Document:
        opening = {"opened_at": change.at, "opened_by": change.event_id, "reopened": reopened}
        await self._col.update_one({"_id": change.conversation_id}, {"$set": opening})
        return opening

    async def _record_late(self, change: InboundChange) -> InboundResult:
        update = inbound_update(change)
        try:
            before = await self._upsert(change, {}, update)
        except DuplicateKeyError:
            return await self._seen(change)
        opened, reopened = _opening(before, change)
        if opened or reopened:
            await self._open(change, reopened)
        after = applied(before, change, update)
        await self._counts.shift(after, lists_in(before), after["lists"])
        await self._index(change, before)
        await self._settle_late(change)
        await self._counted(change)
        row = await self._row(change)
        return InboundResult(row=row, opened=opened or reopened, reopened=reopened)

    async def _index(self, change: InboundChange, before: Document | None) -> None:
        """Only a name or number the conversation did not have yet reaches the search index."""
        names = search_names(change.contact.profile_name, change.contact.username)
        digits = phone_keys(change.phone_e164)
        had = before or {}
        if set(names) <= set(had.get("search_names") or []) and set(digits) <= set(
            had.get("search_digits") or []
        ):
            return
        await self._finder.add(change.conversation_id, change.workspace_id, names, digits)

    async def _counted(self, change: InboundChange) -> None:
        await self._col.update_one({"_id": change.conversation_id}, {"$unset": {UNCOUNTED: ""}})

    async def _upsert(
        self, change: InboundChange, condition: Document, update: Document
    ) -> Document | None:
        """Marked `uncounted` until its counts are moved: a crash in between is repaired when
        the message comes back (see `batched`), or by the counts' reconciler."""
        update["$set"][UNCOUNTED] = uncounted_mark()
        return await self._col.find_one_and_update(
            {"_id": change.conversation_id, "applied": {"$ne": change.event_id}} | condition,
            update,
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )

    async def _row(self, change: InboundChange) -> ConversationRow:
        doc = await self._col.find_one({"_id": change.conversation_id}, LIST_FIELDS)
        assert doc is not None
        return row_of(doc)

    async def _seen(self, change: InboundChange) -> InboundResult:
        await self._index(change, None)  # a crash may have come between its write and this
        row = await self._row(change)
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
        if not change.awaits_reply:
            return
        unanswered = {"last_outbound_at": {"$not": {"$gte": at}}}  # no `$or`: see not_newer_than
        before = await self._col.find_one_and_update(
            conversation | unanswered,
            {"$set": {"awaiting_reply": True}, "$addToSet": {"lists": "no_reply"}},
        )
        if before is not None:
            await self._counts.shift(before, lists_in(before), [*lists_in(before), "no_reply"])


def first_update(change: InboundChange) -> Document:
    """The update of the usual message; a first one also opens the conversation."""
    update = newest_update(change)
    update["$setOnInsert"] |= {"opened_at": change.at, "opened_by": change.event_id}
    return update


def _opening(before: Document | None, change: InboundChange) -> tuple[bool, bool]:
    opened = before is None or before.get("last_activity_at") is None
    previous = None if before is None else before.get("last_inbound_at")
    reopened = not opened and change.opens_window and reopens(previous, change.at)
    return opened, reopened
