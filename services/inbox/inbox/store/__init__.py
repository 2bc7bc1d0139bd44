"""The inbox's MongoDB collections (the only package that imports pymongo)."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from inbox.store.attached import ParkedStatusStore, ReactionStore
from inbox.store.channels import ChannelStore, TemplateStore
from inbox.store.conversations import ConversationStore
from inbox.store.library import LibraryStore
from inbox.store.messages import MessageStore
from inbox.store.notes import ActivityStore, NoteStore
from inbox.store.team import AgentStore

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


class Store:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.conversations = ConversationStore(
            db["conversations"],
            db["conversation_counts"],
            db["conversation_search"],
            db["conversation_search_common"],
        )
        self.messages = MessageStore(db["messages"])
        self.reactions = ReactionStore(db["reactions"])
        self.parked = ParkedStatusStore(db["parked_statuses"])
        self.channels = ChannelStore(db["channels"])
        self.templates = TemplateStore(db["templates"])
        self.notes = NoteStore(db["notes"])
        self.activity = ActivityStore(db["activity"])
        self.library = LibraryStore(db["library_items"], db["library_chunks"])
        self.agents = AgentStore(db["agents"])

    async def ensure_indexes(self) -> None:
        for collection in (
            self.conversations,
            self.messages,
            self.reactions,
            self.parked,
            self.channels,
            self.templates,
            self.notes,
            self.activity,
            self.library,
            self.agents,
        ):
            await collection.ensure_indexes()


__all__ = ["Store", "connect"]
