"""The conversation list at any size: per-list keys, time windows, maintained counts.

A conversation document carries `lists`, the keys of every list it is in ("all", "unread",
"no_reply", "mine:<agent>"). A page reads one key over a window of last activity times,
`{workspace_id, [phone_number_id,] lists: key, last_activity_at: (from, to)}`: equality fields
then one range, the shape every store (SecantusDB included) answers from an index without
reading the rest of the workspace. Windows widen until the page is full, so a page reads about
a page of documents, not the workspace.
"""

import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from inbox.conversations.model import ConversationRow, FilterCounts
from inbox.conversations.search import ListQuery, Search
from inbox.conversations.store.finder import SearchIndex
from inbox.conversations.store.queries import LIST_FIELDS, row_of
from inbox.documents import Document

FIRST_WINDOW = timedelta(minutes=1)
MAX_GROWTH = 64
SMALL = 4  # a list of at most this many pages is read in one query
REMEMBERED_LISTS = 10_000
# No conversation has a WhatsApp time before WhatsApp: a window reaching it is the last one,
# open below down to BOTTOM.
FLOOR = datetime(2009, 1, 1, tzinfo=UTC)
BOTTOM = datetime(1900, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
SEARCH_FIELDS = {"search_names": 1, "search_digits": 1, "lists": 1}
UNSEEN = {"applied": 0, "outbox": 0, "outbox_lease": 0}
# A batch's receipt, kept among the counts (no workspace: a recount never sees it), says its
# moves are counted. A crash comes back within minutes; a week is far more than enough.
RECEIPT = "#counted/"
RECEIPTS_KEPT_S = 7 * 24 * 3600.0
RECEIPTS_SWEEP_S = 600.0


def list_keys(row: ConversationRow) -> list[str]:
    """The lists a conversation is in now; none before its first message."""
    if row.last_activity_at is None:
        return []
    keys = ["all"]
    if row.unread_count > 0:
        keys.append("unread")
    if row.awaiting_reply:
        keys.append("no_reply")
    if row.assignee is not None:
        keys.append(mine(row.assignee.id))
    return sorted(keys)


def lists_in(doc: Document | None) -> list[str]:
    return list((doc or {}).get("lists") or [])


def mine(agent_id: str) -> str:
    return f"mine:{agent_id}"


def filter_key(name: str, agent_id: str) -> str:
    return mine(agent_id) if name == "mine" else name


def counter_id(workspace_id: str, key: str, phone_number_id: str | None) -> str:
    """A list's count across numbers, or for one number."""
    return f"{workspace_id}/{key}" + (f"|{phone_number_id}" if phone_number_id else "")


def found_by(doc: Document, search: Search | None) -> bool:
    if search is None:
        return True
    values, fragment = (
        (doc.get("search_names", []), search.text)
        if search.text
        else (doc.get("search_digits", []), search.digits)
    )
    return any(fragment and fragment in value for value in values)


def _before(doc: Document, query: ListQuery) -> bool:
    after = query.after
    return after is None or (doc["last_activity_at"], doc["_id"]) < (after.at, after.id)


def _shown(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in ("search_names", "search_digits")}


class ListPages:
    """Pages of the conversation list, newest first from the cursor.

    Each window's rows are sorted in memory. How wide a window held a page is remembered per
    list, so the next page of that list usually takes one query.
    """

    def __init__(
        self, collection: AsyncCollection[Document], counts: "ListCounts", finder: SearchIndex
    ) -> None:
        self._col, self._counts, self._finder = collection, counts, finder
        self._spans: dict[tuple[str, str, str | None], timedelta] = {}

    async def page(self, workspace_id: str, query: ListQuery) -> list[ConversationRow]:
        key = filter_key(query.filter, query.agent_id)
        number = {"phone_number_id": query.phone_number_id} if query.phone_number_id else {}
        if query.search is not None:
            ids = await self._finder.candidates(workspace_id, query.search)
            if ids is not None:  # a few candidates by the index: read them, whatever their time
                where = {"_id": {"$in": ids}, "workspace_id": workspace_id, **number, "lists": key}
                return await self._candidates(where, query) if ids else []
        remembered = (workspace_id, key, query.phone_number_id)
        upper = query.after.at + MS if query.after else None
        origin = upper or datetime.now(UTC)
        span = FIRST_WINDOW if query.search else self._spans.get(remembered, FIRST_WINDOW)
        if await self._counts.size(workspace_id, key, query.phone_number_id) <= SMALL * query.limit:
            span = origin - BOTTOM  # a short list is read whole, in one query
        found: list[Document] = []
        while True:
            lower = (upper or origin) - span
            times: Document = {"$gt": lower if lower > FLOOR else BOTTOM}
            if upper is not None:
                times["$lt"] = upper
            where = {"workspace_id": workspace_id, **number, "lists": key}
            window = await self._window(where | {"last_activity_at": times}, query)
            found += window
            if len(found) >= query.limit or lower <= FLOOR:
                break
            upper = lower + MS
            need = query.limit - len(found)
            span *= min(MAX_GROWTH, max(2, 2 * need // max(1, len(window))))
        if len(found) >= query.limit and query.search is None:
            self._remember(remembered, origin - found[query.limit - 1]["last_activity_at"])
        return [row_of(_shown(doc)) for doc in found[: query.limit]]

    async def _candidates(self, where: Document, query: ListQuery) -> list[ConversationRow]:
        return [row_of(_shown(doc)) for doc in (await self._window(where, query))[: query.limit]]

    async def _window(self, where: Document, query: ListQuery) -> list[Document]:
        fields = LIST_FIELDS if query.search is None else UNSEEN
        window = [
            doc
            async for doc in self._col.find(where, fields)
            if _before(doc, query) and found_by(doc, query.search)
        ]
        window.sort(key=lambda doc: (doc["last_activity_at"], doc["_id"]), reverse=True)
        return window

    def _remember(self, remembered: tuple[str, str, str | None], held: timedelta) -> None:
        if len(self._spans) > REMEMBERED_LISTS:
            self._spans.clear()
        self._spans[remembered] = max(FIRST_WINDOW, held * 5 / 4)


def new_receipt(at: float | None = None) -> str:
    """A batch's receipt: its time first, so receipts sort (and are forgotten) by age."""
    return f"{int(time.time() if at is None else at):011d}-{uuid.uuid4().hex}"


def receipt_is_kept(receipt: str) -> bool:
    """Whether a receipt this old would still be kept (an older one is taken as counted)."""
    return receipt >= new_receipt(time.time() - RECEIPTS_KEPT_S + RECEIPTS_SWEEP_S)[:11]


def moves(doc: Document, before: Iterable[str], after: Iterable[str]) -> Counter[str]:
    """What a conversation moving from lists `before` to `after` does to each count."""
    old, new, ws = set(before), set(after), doc["workspace_id"]
    found: Counter[str] = Counter()
    for number in (None, doc["phone_number_id"]):
        found.update(counter_id(ws, key, number) for key in new - old)
        found.subtract(counter_id(ws, key, number) for key in old - new)
    return found


class ListCounts:
    """How many conversations each list holds, moved by every change of a conversation's lists.

    A change is seen by exactly one atomic write (its document before and after), so each
    move is counted once however writers interleave.
    """

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self._swept_at = 0.0

    async def ensure_indexes(self) -> None:
        await self._col.create_index("workspace_id")  # for a recount only

    async def recount(self, conversations: AsyncCollection[Document], workspace_id: str) -> None:
        """Set every count of the workspace to what its conversations hold now."""
        held: Counter[str] = Counter()
        where = {"workspace_id": workspace_id, "lists": {"$exists": True}}
        async for doc in conversations.find(
            where, {"workspace_id": 1, "phone_number_id": 1, "lists": 1}
        ):
            held.update(moves(doc, [], doc["lists"]))
        async for counter in self._col.find({"workspace_id": workspace_id}, {"_id": 1}):
            held.setdefault(counter["_id"], 0)
        writes = [
            UpdateOne(
                {"_id": counter}, {"$set": {"n": n, "workspace_id": workspace_id}}, upsert=True
            )
            for counter, n in held.items()
        ]
        for start in range(0, len(writes), 500):
            await self._col.bulk_write(writes[start : start + 500], ordered=False)

    async def shift(
        self, doc: Document | None, before: Iterable[str], after: Iterable[str]
    ) -> None:
        """Count the move of conversation `doc` from the lists `before` to the lists `after`."""
        if doc is not None and set(before) != set(after):
            await self.add(doc["workspace_id"], moves(doc, before, after))

    async def add(self, workspace_id: str, moves: Counter[str]) -> None:
        await self.add_many({workspace_id: moves})

    async def add_many(self, moves: dict[str, Counter[str]], *, receipt: str | None = None) -> None:
        """Move the counts of several workspaces in one bulk write; with a `receipt`, the write
        ends by keeping it (in order: kept only once every move before it is done)."""
        writes: list[UpdateOne] = [
            UpdateOne(
                {"_id": counter},
                {"$inc": {"n": n}, "$setOnInsert": {"workspace_id": workspace_id}},
                upsert=True,
            )
            for workspace_id, moved in moves.items()
            for counter, n in moved.items()
            if n
        ]
        if receipt is not None:
            writes.append(
                UpdateOne({"_id": RECEIPT + receipt}, {"$set": {"kept": True}}, upsert=True)
            )
            await self._forget_receipts()
        if writes:
            await self._col.bulk_write(writes, ordered=receipt is not None)

    async def receipts(self, receipts: Iterable[str]) -> set[str]:
        """Those of these receipts that were kept: their moves are all counted."""
        ids = [RECEIPT + receipt for receipt in receipts]
        if not ids:
            return set()
        found = self._col.find({"_id": {"$in": ids}}, {"_id": 1})
        return {doc["_id"][len(RECEIPT) :] async for doc in found}

    async def _forget_receipts(self) -> None:
        """Receipts older than RECEIPTS_KEPT go, at most once a sweep interval."""
        now = time.time()
        if now - self._swept_at < RECEIPTS_SWEEP_S:
            return
        self._swept_at = now
        oldest = RECEIPT + new_receipt(now - RECEIPTS_KEPT_S)
        await self._col.delete_many({"_id": {"$gte": RECEIPT, "$lt": oldest}})

    async def size(self, workspace_id: str, key: str, phone_number_id: str | None) -> int:
        found = await self._col.find_one({"_id": counter_id(workspace_id, key, phone_number_id)})
        return int(found["n"]) if found else 0

    async def read(self, workspace_id: str, query: ListQuery) -> FilterCounts:
        ids = {
            name: counter_id(workspace_id, filter_key(name, query.agent_id), query.phone_number_id)
            for name in FilterCounts.model_fields
        }
        where = {"_id": {"$in": list(ids.values())}}
        found = {doc["_id"]: doc["n"] async for doc in self._col.find(where)}
        return FilterCounts(**{name: max(0, found.get(i, 0)) for name, i in ids.items()})


async def searched_counts(
    col: AsyncCollection[Document], finder: SearchIndex, workspace_id: str, query: ListQuery
) -> FilterCounts:
    """Counts of a search: its candidates are read, or the whole list when no fragment of it
    is selective enough to narrow it."""
    assert query.search is not None
    keys = {name: filter_key(name, query.agent_id) for name in FilterCounts.model_fields}
    number = {"phone_number_id": query.phone_number_id} if query.phone_number_id else {}
    where: Document = {"workspace_id": workspace_id, **number, "lists": "all"}
    if (ids := await finder.candidates(workspace_id, query.search)) is not None:
        where["_id"] = {"$in": ids}
    totals: Counter[str] = Counter()
    async for doc in col.find(where, SEARCH_FIELDS):
        if found_by(doc, query.search):
            totals.update(name for name, key in keys.items() if key in doc.get("lists", []))
    return FilterCounts(**{name: totals[name] for name in keys})
