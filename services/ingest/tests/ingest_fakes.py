"""Dict-backed stand-ins for ingest's store, with the same method names."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from hanout_shared.contracts.whatsapp import MetaError
from ingest.channels.model import ChannelRecord
from ingest.channels.store import ChannelExists
from ingest.sending.model import SendRecord


class FakeChannels:
    def __init__(self) -> None:
        self.rows: dict[str, ChannelRecord] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def add(self, record: ChannelRecord) -> None:
        if record.phone_number_id in self.rows:
            raise ChannelExists(record.phone_number_id)
        self.rows[record.phone_number_id] = record

    async def list_for_workspace(self, workspace_id: str) -> list[ChannelRecord]:
        found = [r for r in self.rows.values() if r.workspace_id == workspace_id]
        return sorted(found, key=lambda r: r.phone_number_id)

    async def get(self, workspace_id: str, phone_number_id: str) -> ChannelRecord | None:
        row = self.rows.get(phone_number_id)
        return row if row and row.workspace_id == workspace_id else None

    async def update(
        self, workspace_id: str, phone_number_id: str, changes: Mapping[str, Any]
    ) -> ChannelRecord | None:
        row = await self.get(workspace_id, phone_number_id)
        if row is None:
            return None
        values = {
            k: SecretStr(v) if k == "access_token" and isinstance(v, str) else v
            for k, v in changes.items()
        }
        row = row.model_copy(update={**values, "updated_at": datetime.now(UTC)})
        self.rows[phone_number_id] = row
        return row

    async def all_channels(self) -> list[ChannelRecord]:
        return list(self.rows.values())


class FakeSends:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], SendRecord] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def claim(
        self, workspace_id: str, idempotency_key: str, command_id: str
    ) -> SendRecord | None:
        key = (workspace_id, idempotency_key)
        if key in self.rows:
            return self.rows[key]
        self.rows[key] = SendRecord(
            workspace_id=workspace_id,
            idempotency_key=idempotency_key,
            state="claimed",
            command_id=command_id,
            claimed_at=datetime.now(UTC),
        )
        return None

    async def record_accepted(self, workspace_id: str, idempotency_key: str, wamid: str) -> None:
        key = (workspace_id, idempotency_key)
        self.rows[key] = self.rows[key].model_copy(update={"state": "accepted", "wamid": wamid})

    async def record_failed(
        self, workspace_id: str, idempotency_key: str, error: MetaError, reason: str, retry: bool
    ) -> None:
        key = (workspace_id, idempotency_key)
        values = {"state": "failed", "error": error, "reason": reason, "retryable": retry}
        self.rows[key] = self.rows[key].model_copy(update=values)


class FakeStore:
    def __init__(self) -> None:
        self.channels = FakeChannels()
        self.sends = FakeSends()

    async def ensure_indexes(self) -> None:
        return None
