"""The search box's index: which conversations a name or number fragment can hit.

One small document per conversation in its own collection, `{_id, workspace_id, keys}`, the
keys being `search_keys` (trigrams) of its names and numbers. It is written only when a
conversation gains a name or a number, so the conversation's frequent writes do not rewrite
these index entries (SecantusDB rewrites every entry of a document it changes).
"""

from collections.abc import Iterable

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from inbox.conversations.search import Search, search_grams, search_keys, whole_number
from inbox.documents import Document

# A trigram of more conversations than this does not narrow the list.
MOST_CANDIDATES = 1000
GRAMS_TRIED = 8  # enough to narrow any real query; each is one indexed read
ENOUGH = 50  # candidates few enough to read: no more trigrams are tried
SEEN = {"$set": {"common": True}}
SAMPLE, SAMPLED_SHARE = {"$gte": "00", "$lt": "04"}, 64
BACKFILLED = "#backfilled"  # a marker without a workspace: never a search's candidate


class SearchIndex:
    """`common` remembers the trigrams found too common to narrow a workspace's list: each is
    read once, not at every search (SecantusDB reads a whole index range, past any limit)."""

    def __init__(
        self, collection: AsyncCollection[Document], common: AsyncCollection[Document]
    ) -> None:
        self._col, self._common = collection, common

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("keys", 1), ("_id", 1)])

    async def add(
        self, conversation_id: str, workspace_id: str, names: Iterable[str], digits: Iterable[str]
    ) -> None:
        """Make the conversation findable by these names and numbers too (nothing is removed:
        a former name still finds it, as its messages still bear it)."""
        if write := _adding(conversation_id, workspace_id, names, digits):
            await self._col.bulk_write([write])

    async def add_many(self, docs: Iterable[Document]) -> None:
        """`add` for conversation documents, from their own search fields."""
        writes = [
            write
            for doc in docs
            if (
                write := _adding(
                    doc["_id"],
                    doc["workspace_id"],
                    doc.get("search_names") or [],
                    doc.get("search_digits") or [],
                )
            )
        ]
        if writes:
            await self._col.bulk_write(writes, ordered=False)

    async def candidates(self, workspace_id: str, wanted: Search) -> list[str] | None:
        """Ids of the conversations holding every trigram of the search that narrows it (a
        superset of its matches: the caller checks each), or None when no trigram narrows the
        list to at most MOST_CANDIDATES."""
        if wanted.digits:
            whole = {"workspace_id": workspace_id, "keys": whole_number(wanted.digits)}
            if found := [doc["_id"] async for doc in self._col.find(whole, {"_id": 1})]:
                return found  # a whole number: its conversations, whatever its trigrams
        kept: set[str] | None = None
        grams = search_grams(wanted)[:GRAMS_TRIED]
        common = await self._known_common(workspace_id, grams)
        for gram in grams:
            if gram in common:
                continue
            ids = await self._holding(workspace_id, gram)
            if ids is None:
                await self._common.update_one({"_id": f"{workspace_id}|{gram}"}, SEEN, upsert=True)
                continue
            kept = ids if kept is None else kept & ids
            if len(kept) <= ENOUGH:
                break
        return None if kept is None else sorted(kept)

    async def _holding(self, workspace_id: str, gram: str) -> set[str] | None:
        """The conversations holding `gram`, or None when more than MOST_CANDIDATES do. Judged
        first on the ids in one 64th of the id space (conversation ids are uuids): SecantusDB
        reads a whole index range whatever the limit, and a common trigram's is the workspace."""
        where = {"workspace_id": workspace_id, "keys": gram}
        sample = self._col.find(where | {"_id": SAMPLE}, {"_id": 1})
        if len(await sample.to_list()) * SAMPLED_SHARE > 2 * MOST_CANDIDATES:
            return None
        found = self._col.find(where, {"_id": 1}).limit(MOST_CANDIDATES + 1)
        ids = {doc["_id"] async for doc in found}
        return ids if len(ids) <= MOST_CANDIDATES else None

    async def _known_common(self, workspace_id: str, grams: list[str]) -> set[str]:
        ids = [f"{workspace_id}|{gram}" for gram in grams]
        found = self._common.find({"_id": {"$in": ids}}, {"_id": 1})
        return {doc["_id"].split("|", 1)[1] async for doc in found}

    async def backfilled(self) -> bool:
        return await self._col.find_one({"_id": BACKFILLED}) is not None

    async def mark_backfilled(self) -> None:
        await self._col.update_one({"_id": BACKFILLED}, {"$set": {"done": True}}, upsert=True)


def _adding(
    conversation_id: str, workspace_id: str, names: Iterable[str], digits: Iterable[str]
) -> UpdateOne | None:
    keys = search_keys(names, digits)
    if not keys:
        return None
    return UpdateOne(
        {"_id": conversation_id},
        {"$setOnInsert": {"workspace_id": workspace_id}, "$addToSet": {"keys": {"$each": keys}}},
        upsert=True,
    )
