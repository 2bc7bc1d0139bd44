"""HTTP routes of internal notes: add, edit and delete one's own, list. Nothing here can send."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.contracts import deterministic_id, new_event_id, topics
from hanout_shared.contracts.inbox import (
    NoteAdded,
    NoteAddedEvent,
    NoteDeleted,
    NoteDeletedEvent,
    NoteEdited,
    NoteEditedEvent,
)
from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from hanout_shared.platform.outbox import outbox_entries
from inbox.conversations.model import ConversationRow
from inbox.deps import InboxDep, InboxDeps, Limit, actor, page_cursor
from inbox.documents import Document
from inbox.notes.model import NOTE_MAX_CHARS, Note, note_id, note_state
from inbox.values import SOURCE, Person, encode_cursor, to_ms

router = APIRouter(tags=["notes"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (403, 404, 422)}
ClientKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Optional: the same key adds one note only",
    ),
]


class NotePage(BaseModel):
    items: list[Note] = Field(description="Oldest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for older notes")


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=NOTE_MAX_CHARS, description="Seen by the team only")


def _outbox(
    row: ConversationRow, agent: Principal, kind: Any, data: Any, event_id: str
) -> list[Document]:
    event = kind.create(
        source=SOURCE,
        workspaceid=row.workspace_id,
        subject=row.id,
        data=data,
        id=event_id,
        **actor(agent),
    )
    return outbox_entries(topics.INBOX_EVENTS, [event])


def _text(body: NoteBody) -> str:
    text = body.body.strip()
    if not text:
        raise ApiError(422, "empty_note", "A note needs some text", [{"field": "body"}])
    return text


async def _own_note(
    inbox: InboxDeps, agent: Principal, row: ConversationRow, note_id_: str
) -> Note:
    note = await inbox.store.notes.get(agent.workspace_id, note_id_)
    if note is None or note.conversation_id != row.id:
        raise not_found("Note")
    if note.author.id != agent.agent_id:
        raise ApiError(403, "not_your_note", "Only the note's author can change or delete it")
    return note


@router.post(
    "/conversations/{conversation_id}/notes",
    status_code=201,
    summary="Add an internal note (never sent to the customer)",
    responses={200: {"description": "The same Idempotency-Key added it before"}, **ERRORS},
)
async def add_note(
    conversation_id: str,
    body: NoteBody,
    agent: Agent,
    inbox: InboxDep,
    response: Response,
    idempotency_key: ClientKey = None,
) -> Note:
    row, text = await inbox.conversation(agent, conversation_id), _text(body)
    note = Note(
        id=note_id(row.workspace_id, row.id, idempotency_key) or new_event_id(),
        conversation_id=row.id,
        conversation_key=row.conversation_key,
        at=to_ms(datetime.now(UTC)),
        author=Person(id=agent.agent_id, name=agent.name),
        body=text,
    )
    added = NoteAdded(note=note_state(note))
    outbox = _outbox(row, agent, NoteAddedEvent, added, deterministic_id(note.id, "added"))
    if not await inbox.store.notes.add(row.workspace_id, note, outbox):
        earlier = await inbox.store.notes.get(row.workspace_id, note.id)
        if earlier is None or earlier.body != text or earlier.author.id != agent.agent_id:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for another note",
            )
        response.status_code = 200
        return earlier
    await inbox.relay.publish(inbox.store.notes.outbox, note.id)
    return note


@router.patch(
    "/conversations/{conversation_id}/notes/{note_id}",
    summary="Edit one's own note",
    responses=ERRORS,
)
async def edit_note(
    conversation_id: str, note_id: str, body: NoteBody, agent: Agent, inbox: InboxDep
) -> Note:
    row, text = await inbox.conversation(agent, conversation_id), _text(body)
    note = await _own_note(inbox, agent, row, note_id)
    if note.body == text:
        return note
    edited = note.model_copy(update={"body": text, "edited_at": to_ms(datetime.now(UTC))})
    data = NoteEdited(note=note_state(edited))
    outbox = _outbox(row, agent, NoteEditedEvent, data, new_event_id())
    saved = await inbox.store.notes.edit(row.workspace_id, edited, outbox)
    if saved is None:
        raise not_found("Note")
    await inbox.relay.publish(inbox.store.notes.outbox, note.id)
    return saved


@router.delete(
    "/conversations/{conversation_id}/notes/{note_id}",
    status_code=204,
    summary="Delete one's own note (it leaves the timeline)",
    responses=ERRORS,
)
async def delete_note(conversation_id: str, note_id: str, agent: Agent, inbox: InboxDep) -> None:
    row = await inbox.conversation(agent, conversation_id)
    note = await _own_note(inbox, agent, row, note_id)
    at = to_ms(datetime.now(UTC))
    data = NoteDeleted(
        note_id=note.id,
        conversation_id=row.id,
        conversation_key=row.conversation_key,
        deleted_at=at,
    )
    outbox = _outbox(row, agent, NoteDeletedEvent, data, deterministic_id(note.id, "deleted"))
    if not await inbox.store.notes.delete(row.workspace_id, note, at, outbox):
        raise not_found("Note")
    await inbox.relay.publish(inbox.store.notes.outbox, note.id)


@router.get(
    "/conversations/{conversation_id}/notes",
    summary="The conversation's notes, oldest first, paged back in time",
    responses=ERRORS,
)
async def list_notes(
    conversation_id: str,
    agent: Agent,
    inbox: InboxDep,
    cursor: str | None = None,
    limit: Limit = 50,
) -> NotePage:
    row = await inbox.conversation(agent, conversation_id)
    found = await inbox.store.notes.timeline(
        agent.workspace_id, row.id, page_cursor(cursor), limit + 1
    )
    oldest = found[limit - 1] if len(found) > limit else None
    return NotePage(
        items=found[:limit][::-1],
        next_cursor=encode_cursor(oldest.at, oldest.id) if oldest else None,
    )
