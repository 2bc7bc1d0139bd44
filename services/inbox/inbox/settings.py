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
    counts_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often list counts a crash left unmoved are recounted"
    )
    counts_grace_s: float = Field(
        default=30.0,
        gt=0,
        description="A conversation marked uncounted this long outlived its write (a crash)",
    )
    publish_timeout_s: float = Field(
        default=3.0, gt=0, description="Request wait for Kafka before the sweep takes over"
    )
    presence_ttl_s: float = Field(
        default=8.0, gt=0, description="A composing/viewing indicator dies this long after a beat"
    )
    live_buffer_events: int = Field(
        default=1000, ge=10, description="Recent events kept per workspace to resume streams"
    )
    live_buffer_age_s: float = Field(
        default=600.0, gt=0, description="How long a stream can be away and still resume"
    )
    live_replay_limit: int = Field(
        default=50_000,
        ge=0,
        description="Records a resuming stream may have read back from Kafka (0: never)",
    )
    live_client_queue: int = Field(
        default=1000, ge=10, description="Events a slow client may lag before its stream ends"
    )
    stream_keepalive_s: float = Field(
        default=15.0, gt=0, description="An idle stream sends a keepalive (with its id) this often"
    )
    ingest_url: str = Field(
        default="http://127.0.0.1:8001", description="Ingest's API, for library media uploads"
    )
    ingest_timeout_s: float = Field(default=30.0, gt=0, description="Media uploads to ingest")
    library_max_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest file the content library takes"
    )
