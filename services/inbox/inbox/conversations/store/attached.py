"""What attaches to messages by wamid: the customer's reactions, and statuses that came early."""

from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hanout_shared.contracts import deterministic_id
from inbox.conversations.messages import ReactionView, Tick
from inbox.documents import Document

# A status whose send was never linked (sent outside the inbox, or its command lost) is kept
# this long, then the store forgets it.
PARKED_FOR = timedelta(days=7)
SWEEP_EVERY = timedelta(minutes=10)


class ReactionStore:
    """One reaction per (message, reactor): a newer one replaces it, a removal clears it."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("target_wamid", 1)])

    async def react(
        self,
        workspace_id: str,
        target_wamid: str,
        reactor: str,
        emoji: str | None,
        at: datetime,
    ) -> bool:
        """False when a later reaction of the same reactor is already kept."""
        reaction_id = deterministic_id(workspace_id, "reaction", target_wamid, reactor)
        try:
            await self._col.update_one(
                {"_id": reaction_id, "at": {"$lte": at}},
                {
                    "$set": {"emoji": emoji, "at": at},
                    "$setOnInsert": {
                        "workspace_id": workspace_id,
                        "target_wamid": target_wamid,
                        "reactor": reactor,
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def for_wamids(
        self, workspace_id: str, wamids: list[str]
    ) -> dict[str, list[ReactionView]]:
        query = {
            "workspace_id": workspace_id,
            "target_wamid": {"$in": wamids},
            "emoji": {"$ne": None},
        }
        found: dict[str, list[ReactionView]] = {}
        async for doc in self._col.find(query).sort("at", 1):
            view = ReactionView(emoji=doc["emoji"], at=doc["at"])
            found.setdefault(doc["target_wamid"], []).append(view)
        return found


class ParkedStatusStore:
    """Statuses of a wamid no message is linked to yet: applied when the link arrives."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self._swept_at: datetime | None = None

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("wamid", 1)])

    async def park(self, workspace_id: str, event_id: str, wamid: str, tick: Tick) -> None:
        doc = _parked(workspace_id, wamid, tick)
        await self._col.update_one({"_id": event_id}, {"$setOnInsert": doc}, upsert=True)
        await self._sweep(datetime.now(UTC))

    async def _sweep(self, now: datetime) -> None:
        """Forget what expired, at most once a sweep interval: no TTL index (FerretDB has none),
        and parking is rare enough that this small collection is swept when it is written."""
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        await self._col.delete_many({"expires_at": {"$lt": now}})

    async def park_many(self, workspace_id: str, parked: list[tuple[str, str, Tick]]) -> None:
        """`park` for a batch's early statuses (event id, wamid, tick), in one write."""
        if not parked:
            return
        writes = [
            UpdateOne(
                {"_id": event_id}, {"$setOnInsert": _parked(workspace_id, wamid, tick)}, upsert=True
            )
            for event_id, wamid, tick in parked
        ]
        await self._col.bulk_write(writes, ordered=False)
        await self._sweep(datetime.now(UTC))

    async def waiting_many(
        self, workspace_id: str, wamids: list[str]
    ) -> list[tuple[str, str, Tick]]:
        """The early statuses of these wamids: (event id, wamid, tick)."""
        if not wamids:
            return []
        cursor = self._col.find({"workspace_id": workspace_id, "wamid": {"$in": wamids}})
        return [
            (doc["_id"], doc["wamid"], Tick.model_validate(doc["tick"])) async for doc in cursor
        ]

    async def waiting(self, workspace_id: str, wamid: str) -> list[tuple[str, Tick]]:
        cursor = self._col.find({"workspace_id": workspace_id, "wamid": wamid})
        return [(doc["_id"], Tick.model_validate(doc["tick"])) async for doc in cursor]

    async def release(self, event_ids: list[str]) -> None:
        await self._col.delete_many({"_id": {"$in": event_ids}})


def _parked(workspace_id: str, wamid: str, tick: Tick) -> Document:
    return {
        "workspace_id": workspace_id,
        "wamid": wamid,
        "tick": tick.model_dump(),
        "expires_at": tick.at + PARKED_FOR,
    }
