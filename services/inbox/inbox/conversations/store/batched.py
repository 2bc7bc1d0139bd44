"""A batch of customers' messages applied to their conversations: one read and one bulk write for
the batch, one bulk write of the counts, whatever the number of conversations.

Each conversation's messages are folded in offset order on the document read, and written in one
update guarded on what was read (its lists and last activity): a writer that came in between (a
read, a reply, an assignment) fails that guard, and the conversation takes the one-by-one path.
A written conversation whose lists moved is marked `uncounted` with the batch's receipt, and the
counts' bulk write ends with that receipt: a marked conversation read again whose receipt is not
there (the batch came back after a crash in between) has its workspace recounted.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from inbox.conversations.model import InboundChange, InboundResult, reopens
from inbox.conversations.search import phone_keys, search_names
from inbox.conversations.store.finder import SearchIndex
from inbox.conversations.store.inbound import InboundWriter, first_update
from inbox.conversations.store.listing import (
    ListCounts,
    lists_in,
    moves,
    new_receipt,
    receipt_is_kept,
)
from inbox.conversations.store.queries import APPLIED_MEMORY, UNCOUNTED, applied, row_of
from inbox.documents import Document

READ = {"outbox": 0, "outbox_lease": 0}
DUPLICATE_KEY = 11000
# What the fold may change, written whole: the guard makes the document read the one updated.
FOLDED = (
    "contact",
    "display_phone_number",
    "phone_e164",
    "last_message",
    "last_activity_at",
    "last_inbound_at",
    "last_inbound_wamid",
    "awaiting_reply",
    "lists",
    "opened_at",
    "opened_by",
    "reopened",
)
INSERTED = ("workspace_id", "conversation_key", "phone_number_id", "created_at")


@dataclass
class Fold:
    """One conversation's messages of the batch, applied in memory to the document read."""

    before: Document | None
    doc: Document | None
    fresh: list[str] = field(default_factory=list)
    late: bool = False


class BatchWriter:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        counts: ListCounts,
        finder: SearchIndex,
        one_by_one: InboundWriter,
    ) -> None:
        self._col, self._counts, self._finder = collection, counts, finder
        self._one_by_one = one_by_one

    async def record(self, changes: list[InboundChange]) -> list[InboundResult]:
        ids = list(dict.fromkeys(c.conversation_id for c in changes))
        read = {doc["_id"]: doc async for doc in self._col.find({"_id": {"$in": ids}}, READ)}
        await self._reconcile(list(read.values()))
        receipt = new_receipt()
        folds = {cid: Fold(read.get(cid), read.get(cid)) for cid in ids}
        results: dict[int, InboundResult] = {}
        for i, change in enumerate(changes):
            if (result := _fold(folds[change.conversation_id], change)) is not None:
                results[i] = result
        written = await self._write(folds, receipt)
        await self._count(folds, written, receipt)
        await self._index(changes, folds)
        for i, change in enumerate(changes):
            if change.conversation_id not in written:
                results[i] = await self._one_by_one.record(change)
        return [results[i] for i in range(len(changes))]

    async def _reconcile(self, read: list[Document]) -> None:
        """Counts a crash may have left unmoved are set again from the conversations."""
        marks = {doc[UNCOUNTED] for doc in read if isinstance(doc.get(UNCOUNTED), str)}
        counted = await self._counts.receipts(marks)
        marked = [doc for doc in read if _uncounted(doc.get(UNCOUNTED), counted)]
        for workspace_id in {doc["workspace_id"] for doc in marked}:
            await self._counts.recount(self._col, workspace_id)
        if marked:
            ids = [doc["_id"] for doc in marked]
            await self._col.update_many({"_id": {"$in": ids}}, {"$unset": {UNCOUNTED: ""}})

    async def _write(self, folds: dict[str, Fold], receipt: str) -> set[str]:
        """The conversations written in the bulk write (the others go one by one)."""
        todo = [(cid, f) for cid, f in folds.items() if f.fresh and not f.late]
        if not todo:
            return {cid for cid, f in folds.items() if not f.fresh}
        failed: set[int] = set()
        try:
            await self._col.bulk_write([_update(f, receipt) for _, f in todo], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            failed = {e["index"] for e in errors}  # the guard failed: someone wrote meanwhile
        done = {cid for i, (cid, _) in enumerate(todo) if i not in failed}
        return done | {cid for cid, f in folds.items() if not f.fresh}

    async def _count(self, folds: dict[str, Fold], written: set[str], receipt: str) -> None:
        marked = [cid for cid in written if folds[cid].fresh and _lists_moved(folds[cid])]
        if not marked:
            return
        moved: dict[str, Counter[str]] = {}
        for cid in marked:
            before, after = folds[cid].before, folds[cid].doc
            assert after is not None
            found = moves(after, lists_in(before), after["lists"])
            moved.setdefault(after["workspace_id"], Counter()).update(found)
        await self._counts.add_many(moved, receipt=receipt)

    async def _index(self, changes: list[InboundChange], folds: dict[str, Fold]) -> None:
        """Names and numbers new to a conversation reach the search index (a redelivered one's
        too: a crash may have come between its write and this)."""
        entries: dict[str, Document] = {}
        for change in changes:
            before = folds[change.conversation_id].before or {}
            names = search_names(change.contact.profile_name, change.contact.username)
            digits = phone_keys(change.phone_e164)
            seen = change.event_id in (before.get("applied") or [])
            if (
                not seen
                and set(names) <= set(before.get("search_names") or [])
                and set(digits) <= set(before.get("search_digits") or [])
            ):
                continue
            entry = entries.setdefault(
                change.conversation_id,
                {"_id": change.conversation_id, "workspace_id": change.workspace_id},
            )
            entry["search_names"] = [*entry.get("search_names", []), *names]
            entry["search_digits"] = [*entry.get("search_digits", []), *digits]
        await self._finder.add_many(entries.values())


def _lists_moved(fold: Fold) -> bool:
    assert fold.doc is not None
    return set(lists_in(fold.before)) != set(fold.doc["lists"])


def _fold(fold: Fold, change: InboundChange) -> InboundResult | None:
    """Apply one message to the folded document; None when it must go one by one."""
    doc = fold.doc
    if doc is not None and change.event_id in (doc.get("applied") or []):
        row = row_of(doc)
        opened = row.opened_by == change.event_id
        return InboundResult(row=row, opened=opened, reopened=opened and row.reopened)
    last_at = None if doc is None else doc.get("last_activity_at")
    if fold.late or (last_at is not None and change.at < last_at):
        fold.late = True  # a late message: its conversation takes the one-by-one path
        return None
    after = applied(doc, change, first_update(change))
    opened = doc is None or doc.get("last_activity_at") is None
    previous = (doc or {}).get("last_inbound_at")
    reopened = not opened and change.opens_window and reopens(previous, change.at)
    if doc is not None and (opened or reopened):
        after |= {"opened_at": change.at, "opened_by": change.event_id, "reopened": reopened}
    fold.doc = after
    fold.fresh.append(change.event_id)
    return InboundResult(row=row_of(after), opened=opened or reopened, reopened=reopened)


def _uncounted(mark: object, counted: set[str]) -> bool:
    """A mark of any other write (its time; True before marks had one), or a recent batch's
    whose receipt is missing."""
    if isinstance(mark, str):
        return mark not in counted and receipt_is_kept(mark)
    return mark is True or isinstance(mark, datetime)


def _update(fold: Fold, receipt: str) -> UpdateOne:
    """The fold as one update, guarded on the document it was folded from."""
    before, after = fold.before or {}, fold.doc
    assert after is not None
    where: Document = {
        "_id": after["_id"],
        "lists": before.get("lists"),
        "last_activity_at": before.get("last_activity_at"),
        "applied": {"$nin": fold.fresh},
    }
    sets = {name: after[name] for name in FOLDED if name in after}
    if _lists_moved(fold):
        sets[UNCOUNTED] = receipt
    update: Document = {
        "$set": sets,
        "$push": {"applied": {"$each": fold.fresh, "$slice": -APPLIED_MEMORY}},
        "$addToSet": {
            "search_names": {"$each": after.get("search_names") or []},
            "search_digits": {"$each": after.get("search_digits") or []},
        },
    }
    unread = (after.get("unread_count") or 0) - (before.get("unread_count") or 0)
    if unread:
        update["$inc"] = {"unread_count": unread}
    if fold.before is None:
        update["$setOnInsert"] = {name: after[name] for name in INSERTED}
    # A document that changed since it was read fails the guard; with upsert that is a
    # duplicate `_id`, reported per write, and the conversation is written one by one.
    return UpdateOne(where, update, upsert=True)
