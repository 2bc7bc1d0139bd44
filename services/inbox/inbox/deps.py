"""What the inbox's routes and handlers work with: one object, built by app.py, plus what every
route shares (the conversation asked for, who acts for the events' audit trail, paging)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypedDict

from fastapi import Depends, Query

from hanout_shared.platform.auth import Principal
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from hanout_shared.platform.logs import correlation_id
from hanout_shared.platform.outbox import OutboxRelay
from hanout_shared.platform.service import dependencies
from inbox.conversations.model import ConversationRow
from inbox.library.ingest import IngestMedia
from inbox.live.hub import Hub
from inbox.live.replay import TopicReader
from inbox.store import Store
from inbox.values import Cursor, decode_cursor

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
Limit = Annotated[int, Query(ge=1, le=200)]


@dataclass(frozen=True)
class InboxDeps:
    """The store and the outbox relay, this replica's live hub, ingest's media upload, the topic
    read back for resuming streams, and the settings routes need."""

    store: Store
    relay: OutboxRelay
    hub: Hub
    ingest: IngestMedia
    topic_reader: TopicReader
    presence_ttl: timedelta
    publish_timeout_s: float
    keepalive_s: float
    library_max_bytes: int

    async def conversation(self, agent: Principal, conversation_id: str) -> ConversationRow:
        """The agent's conversation (another workspace's is 404, as is one not yet shown)."""
        row = await self.store.conversations.get(agent.workspace_id, conversation_id)
        if row is None or row.last_activity_at is None:
            raise not_found("Conversation")
        return row


InboxDep = Annotated[InboxDeps, Depends(dependencies)]


class Actor(TypedDict):
    actorid: str
    actorname: str
    correlationid: str | None


def actor(agent: Principal) -> Actor:
    """Who caused an event, for the audit trail, and the request it came from."""
    return Actor(actorid=agent.agent_id, actorname=agent.name, correlationid=correlation_id.get())


def page_cursor(text: str | None) -> Cursor | None:
    if text is None:
        return None
    if (cursor := decode_cursor(text)) is None:
        raise ApiError(422, "invalid_cursor", "The cursor is not one this API gave out")
    return cursor
