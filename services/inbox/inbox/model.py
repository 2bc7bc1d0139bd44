"""Pure inbox logic: what a conversation looks like after a message arrives."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Conversation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    workspace_id: str
    phone_number_id: str
    contact_id: str
    display_name: str
    last_message_preview: str
    last_message_at: datetime
    unread_count: int


def message_preview(message_type: str, text: str | None) -> str:
    if text:
        return text[:120]
    return f"[{message_type}]"
