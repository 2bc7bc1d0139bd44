"""Inbox settings (env prefix INBOX_)."""

from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class InboxSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBOX_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_inbox"
    consumer_group: str = "inbox"
