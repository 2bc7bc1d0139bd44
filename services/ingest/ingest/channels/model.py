"""A business number as the registry keeps it (pure)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, SecretStr

from hanout_shared.contracts.whatsapp import Channel


class ChannelRecord(BaseModel):
    """A business number of a workspace, as the registry keeps it (token included)."""

    model_config = ConfigDict(frozen=True)

    phone_number_id: str
    workspace_id: str
    meta_app_id: str
    access_token: SecretStr
    display_phone_number: str | None = None
    waba_id: str | None = None
    name: str | None = None
    enabled: bool = True
    created_at: datetime
    updated_at: datetime

    @property
    def channel(self) -> Channel:
        return Channel(
            phone_number_id=self.phone_number_id,
            display_phone_number=self.display_phone_number,
            waba_id=self.waba_id,
        )
