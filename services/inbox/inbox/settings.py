"""Inbox settings (env prefix INBOX_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class InboxSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBOX_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_inbox"
    consumer_group: str = Field(
        default="inbox", min_length=1, description="Kafka group ids start with this"
    )
    outbox_sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often sends and receipts left unpublished are retried"
    )
    publish_timeout_s: float = Field(
        default=3.0, gt=0, description="Request wait for Kafka before the sweep takes over"
    )
