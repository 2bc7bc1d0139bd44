"""HTTP routes of the conversation list and of one conversation's timeline and read state."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.inbox import ConversationRead, ConversationReadEvent
from hanout_shared.contracts.whatsapp import MarkReadRequested, MarkReadRequestedEvent
from hanout_shared.platform.auth import Admin, Agent, Principal
from hanout_shared.platform.errors import not_found
from hanout_shared.platform.outbox import outbox_entries
from inbox.conversations.messages import Message
from inbox.conversations.model import (
    Conversation,
    ConversationPage,
    ConversationRow,
    Filter,
    FilterCounts,
    ReadMark,
    present,
)
from inbox.conversations.search import ListQuery, search
from inbox.conversations.timeline import TimelinePage, merge_newest
from inbox.conversations.updates import with_reactions
from inbox.deps import NOT_FOUND, InboxDep, Limit, actor, page_cursor
from inbox.documents import Document
from inbox.values import SOURCE, Person, encode_cursor, to_ms

router = APIRouter(tags=["conversations"])
Search = Annotated[
    str | None, Query(max_length=100, description="A name, or a number in any format or part")
]
NumberSelector = Annotated[str | None, Query(description="One business number (all if absent)")]


@router.get("/conversations", summary="The conversation list, most recent activity first")
async def list_conversations(
    agent: Agent,
    inbox: InboxDep,
    filter_: Annotated[Filter, Query(alias="filter")] = "all",
    phone_number_id: NumberSelector = None,
    q: Search = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> ConversationPage:
    query = ListQuery(
        filter=filter_,
        phone_number_id=phone_number_id,
        search=search(q),
        agent_id=agent.agent_id,
        after=page_cursor(cursor),
        limit=limit + 1,
    )
    rows = await inbox.store.conversations.page(agent.workspace_id, query)
    now, last = datetime.now(UTC), rows[limit - 1] if len(rows) > limit else None
    return ConversationPage(
        items=[present(row, now) for row in rows[:limit]],
        next_cursor=encode_cursor(last.last_activity_at, last.id) if last else None,
    )


@router.get("/conversations/counts", summary="How many conversations each filter holds")
async def count_conversations(
    agent: Agent, inbox: InboxDep, phone_number_id: NumberSelector = None, q: Search = None
) -> FilterCounts:
    query = ListQuery(phone_number_id=phone_number_id, search=search(q), agent_id=agent.agent_id)
    return await inbox.store.conversations.counts_of(agent.workspace_id, query)


@router.post(
    "/conversations/counts/recount",
    summary="Recount every filter's count from the conversations (admins)",
    description="Heals a count left off by a crash between a conversation's write and its "
    "count's. Reads every conversation of the workspace: run it when the workspace is quiet, "
    "as a write racing it can move one count once more.",
)
async def recount_conversations(admin: Admin, inbox: InboxDep) -> FilterCounts:
    await inbox.store.conversations.recount(admin.workspace_id)
    query = ListQuery(agent_id=admin.agent_id)
    return await inbox.store.conversations.counts_of(admin.workspace_id, query)


@router.get("/conversations/{conversation_id}", summary="One conversation", responses=NOT_FOUND)
async def get_conversation(conversation_id: str, agent: Agent, inbox: InboxDep) -> Conversation:
    return present(await inbox.conversation(agent, conversation_id), datetime.now(UTC))


@router.get(
    "/conversations/{conversation_id}/messages",
    summary="The conversation's timeline: messages, internal notes and the activity trail, "
    "a page oldest first, paged back in time",
    responses=NOT_FOUND,
)
async def list_messages(
    conversation_id: str,
    agent: Agent,
    inbox: InboxDep,
    cursor: str | None = None,
    limit: Limit = 50,
) -> TimelinePage:
    row, store, ws = (
        await inbox.conversation(agent, conversation_id),
        inbox.store,
        agent.workspace_id,
    )
    before = page_cursor(cursor)
    messages = await store.messages.timeline(ws, row.id, before, limit + 1)
    notes = await store.notes.timeline(ws, row.id, before, limit + 1)
    trail = await store.activity.timeline(ws, row.id, before, limit + 1)
    found = merge_newest([messages, notes, trail], limit + 1)
    shown = [m for m in found[:limit] if isinstance(m, Message)]
    reacted = {m.id: m for m in await with_reactions(store, ws, shown)}
    page = [reacted.get(item.id, item) for item in found[:limit]]
    oldest = page[-1] if len(found) > limit else None
    return TimelinePage(
        items=page[::-1], next_cursor=encode_cursor(oldest.at, oldest.id) if oldest else None
    )


def _read_events(
    row: ConversationRow, agent: Principal, read_at: datetime, receipt: str | None
) -> list[Document]:
    """What a read stores in the conversation's outbox: Meta's read receipt when the number
    sends them, then the team's read event."""
    items: list[Document] = []
    if receipt:
        data = MarkReadRequested(
            conversation_key=row.conversation_key,
            phone_number_id=row.phone_number_id,
            wamid=receipt,
        )
        command = MarkReadRequestedEvent.create(
            source=SOURCE,
            workspaceid=row.workspace_id,
            subject=row.conversation_key,
            data=data,
            id=deterministic_id(row.id, "mark_read", receipt),
            **actor(agent),
        )
        items += outbox_entries(topics.WHATSAPP_OUTBOUND, [command])
    if row.unread_count or receipt:
        read = ConversationRead(
            conversation_id=row.id,
            conversation_key=row.conversation_key,
            read_at=read_at,
            unread_before=row.unread_count,
            receipt_wamid=receipt,
        )
        event = ConversationReadEvent.create(
            source=SOURCE, workspaceid=row.workspace_id, subject=row.id, data=read, **actor(agent)
        )
        items += outbox_entries(topics.INBOX_EVENTS, [event])
    return items


@router.post(
    "/conversations/{conversation_id}/read",
    summary="Mark read for the whole team; tells Meta too when the number's setting says so",
    responses=NOT_FOUND,
)
async def mark_read(conversation_id: str, agent: Agent, inbox: InboxDep) -> Conversation:
    row = await inbox.conversation(agent, conversation_id)
    channel = await inbox.store.channels.get(agent.workspace_id, row.phone_number_id)
    wamid = row.last_inbound_wamid
    wanted = channel is not None and channel.read_receipts and wamid != row.read_receipt_wamid
    receipt = wamid if wanted else None
    now = datetime.now(UTC)
    outbox = _read_events(row, agent, to_ms(now), receipt)
    mark = ReadMark(
        at=to_ms(now), by=Person(id=agent.agent_id, name=agent.name), receipt_wamid=receipt
    )
    updated = await inbox.store.conversations.mark_read(agent.workspace_id, row.id, mark, outbox)
    if updated is None:
        raise not_found("Conversation")
    if outbox:
        await inbox.relay.publish(inbox.store.conversations.outbox, row.id)
    return present(updated, now)
