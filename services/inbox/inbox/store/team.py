"""The `agents` collection: who of the team has used the inbox, for the assignment picker."""

from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection

from inbox.model import Person, TeamMember
from inbox.store.documents import Document

# An agent is written at most this often (the live stream reconnects often).
SEEN_EVERY = timedelta(minutes=10)


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
