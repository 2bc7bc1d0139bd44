"""The workspace's business numbers as the inbox knows them, and their inbox settings (pure)."""

from pydantic import Field

from hanout_shared.contracts import deterministic_id
from inbox.values import Frozen


class Channel(Frozen):
    """A business number of the workspace, for the number selector, and its inbox settings."""

    phone_number_id: str
    display_phone_number: str | None = None
    read_receipts: bool = Field(default=False, description="Tell Meta when an agent reads")


def channel_id(workspace_id: str, phone_number_id: str) -> str:
    """One document per number: its settings and its synced templates share this id."""
    return deterministic_id(workspace_id, "channel", phone_number_id)
