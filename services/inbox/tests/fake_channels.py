"""Dict-backed stand-ins for the business numbers and their synced templates."""

from inbox.channels.model import Channel
from inbox.channels.templates import ChannelTemplates


class FakeChannels:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], Channel] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def remember(self, workspace_id: str, phone_number_id: str, display: str | None) -> None:
        found = self.docs.get((workspace_id, phone_number_id)) or Channel(
            phone_number_id=phone_number_id
        )
        if display:
            found = found.model_copy(update={"display_phone_number": display})
        self.docs[(workspace_id, phone_number_id)] = found

    async def list(self, workspace_id: str) -> list[Channel]:
        return sorted(
            (c for (ws, _), c in self.docs.items() if ws == workspace_id),
            key=lambda c: c.phone_number_id,
        )

    async def get(self, workspace_id: str, phone_number_id: str) -> Channel | None:
        return self.docs.get((workspace_id, phone_number_id))

    async def set_read_receipts(
        self, workspace_id: str, phone_number_id: str, enabled: bool
    ) -> Channel | None:
        found = self.docs.get((workspace_id, phone_number_id))
        if found is None:
            return None
        self.docs[(workspace_id, phone_number_id)] = found.model_copy(
            update={"read_receipts": enabled}
        )
        return self.docs[(workspace_id, phone_number_id)]


class FakeTemplates:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], ChannelTemplates] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def replace(self, workspace_id: str, synced: ChannelTemplates) -> bool:
        kept = self.docs.get((workspace_id, synced.phone_number_id))
        if kept is not None and kept.synced_at > synced.synced_at:
            return False
        self.docs[(workspace_id, synced.phone_number_id)] = synced
        return True

    async def for_channel(self, workspace_id: str, phone_number_id: str) -> ChannelTemplates | None:
        return self.docs.get((workspace_id, phone_number_id))
