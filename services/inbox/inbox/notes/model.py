"""Internal notes: what they hold, their ids and how they are announced (pure)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.inbox import NoteState
from inbox.values import Frozen, Person

NOTE_MAX_CHARS = 4000


class Note(Frozen):
    """Visible to the whole team and never to the customer: it has no way to the send path."""

    kind: Literal["note"] = "note"
    id: str
    conversation_id: str
    conversation_key: str
    at: datetime = Field(description="When it was added")
    author: Person
    body: str
    edited_at: datetime | None = None


def note_id(workspace_id: str, conversation: str, client_key: str | None) -> str | None:
    """The same click adds one note; without a key, the store draws a random id."""
    return deterministic_id(workspace_id, conversation, "note", client_key) if client_key else None


def note_state(note: Note) -> NoteState:
    return NoteState(
        note_id=note.id,
        conversation_id=note.conversation_id,
        conversation_key=note.conversation_key,
        author_id=note.author.id,
        author_name=note.author.name,
        body=note.body,
        at=note.at,
        edited_at=note.edited_at,
    )
