"""The `activity` and `agents` collections: the conversations' activity trail, and who of the
team has used the inbox (for the assignment picker)."""

from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from inbox.documents import NEWEST, Document, bson, older_than
from inbox.team.model import Activity, TeamMember
from inbox.values import Cursor, Person

# An agent is written at most this often (the live stream reconnects often).
SEEN_EVERY = timedelta(minutes=10)


class ActivityStore:
    """One entry per cause (its id derives from the event): a redelivery adds nothing."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("conversation_id", 1), *NEWEST])

    async def record(self, workspace_id: str, activity: Activity) -> bool:
        doc = bson(activity.model_dump(exclude={"id", "kind"}))
        try:
            await self._col.insert_one(doc | {"_id": activity.id, "workspace_id": workspace_id})
        except DuplicateKeyError:
            return False
        return True

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Activity]:
        where = {"workspace_id": workspace_id, "conversation_id": conversation_id}
        cursor = self._col.find(older_than(where, before), {"workspace_id": 0})
        return [_activity(doc) async for doc in cursor.sort(NEWEST).limit(limit)]


def _activity(doc: Document) -> Activity:
    return Activity.model_validate(doc | {"id": doc["_id"]})


class AgentStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._col = collection
        self._written: dict[tuple[str, str, str], datetime] = {}

    async def ensure_indexes(self) -> None:
        await self._col.create_index([("workspace_id", 1), ("name", 1)])

    async def seen(self, workspace_id: str, agent: Person, at: datetime) -> None:
        key = (workspace_id, agent.id, agent.name)
        last = self._written.get(key)
        if last is not None and at - last < SEEN_EVERY:
            return
        await self._col.update_one(
            {"_id": f"{workspace_id}:{agent.id}"},
            {
                "$set": {"workspace_id": workspace_id, "id": agent.id, "name": agent.name},
                "$max": {"last_seen_at": at},
            },
            upsert=True,
        )
        if len(self._written) > 10_000:
            self._written.clear()
        self._written[key] = at

    async def list(self, workspace_id: str) -> list[TeamMember]:
        cursor = self._col.find({"workspace_id": workspace_id}, {"_id": 0}).sort("name", 1)
        return [TeamMember.model_validate(doc) async for doc in cursor.limit(500)]
