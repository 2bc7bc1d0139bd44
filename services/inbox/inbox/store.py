"""All the inbox's collections in one object, each from the feature that owns it."""

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from inbox.channels.store import ChannelStore, TemplateStore
from inbox.conversations.store.attached import ParkedStatusStore, ReactionStore
from inbox.conversations.store.conversations import ConversationStore
from inbox.conversations.store.messages import MessageStore
from inbox.documents import Document
from inbox.library.store import LibraryStore
from inbox.notes.store import NoteStore
from inbox.team.store import ActivityStore, AgentStore


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
