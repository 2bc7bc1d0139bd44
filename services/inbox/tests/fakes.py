"""A dict-backed stand-in for the inbox store, with the same method names."""

from datetime import datetime

from inbox.model import Conversation


class FakeStore:
    def __init__(self) -> None:
        self.conversations: dict[str, dict[str, object]] = {}
        self.wamids: set[str] = set()

    async def ensure_indexes(self) -> None:
        return None

    async def record_inbound(
        self,
        *,
        conversation_id: str,
        workspace_id: str,
        phone_number_id: str,
        contact_id: str,
        display_name: str,
        wamid: str,
        preview: str,
        sent_at: datetime,
    ) -> bool:
        if wamid in self.wamids:
            return False
        self.wamids.add(wamid)
        row = self.conversations.setdefault(
            conversation_id,
            {
                "id": conversation_id,
                "workspace_id": workspace_id,
                "phone_number_id": phone_number_id,
                "contact_id": contact_id,
                "last_message_at": sent_at,
                "last_message_preview": preview,
                "unread_count": 0,
            },
        )
        row["display_name"] = display_name
        row["unread_count"] = int(str(row["unread_count"])) + 1
        if sent_at >= row["last_message_at"]:  # type: ignore[operator]
            row["last_message_at"], row["last_message_preview"] = sent_at, preview
        return True

    async def list_for_workspace(self, workspace_id: str, limit: int) -> list[Conversation]:
        rows = [
            Conversation.model_validate(row)
            for row in self.conversations.values()
            if row["workspace_id"] == workspace_id
        ]
        rows.sort(key=lambda c: c.last_message_at, reverse=True)
        return rows[:limit]
