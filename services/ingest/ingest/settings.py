"""Ingest settings (env prefix INGEST_)."""

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings

DEV_APP_ID = "hanout-dev-app"
DEV_APP_SECRET = "hanout-dev-app-secret"
DEV_VERIFY_TOKEN = "hanout-dev-verify-token"
GRAPH_API_URL = "https://graph.facebook.com"


class MetaApp(BaseModel):
    """A Meta app whose webhooks we accept: several secrets let a rotation overlap."""

    app_secrets: list[SecretStr] = Field(min_length=1)
    verify_token: SecretStr


def _dev_apps() -> dict[str, MetaApp]:
    return {
        DEV_APP_ID: MetaApp(
            app_secrets=[SecretStr(DEV_APP_SECRET)], verify_token=SecretStr(DEV_VERIFY_TOKEN)
        )
    }


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_ingest"
    meta_apps: dict[str, MetaApp] = Field(default_factory=_dev_apps)
    graph_api_url: str = GRAPH_API_URL
    graph_api_version: str = "v25.0"
    graph_timeout_s: float = 10.0
    max_body_bytes: int = 3 * 1024 * 1024
    media_max_bytes: int = 100 * 1024 * 1024
    kafka_ack_timeout_s: float = Field(default=2.0, description="Longer than this → 503")
    kafka_request_timeout_ms: int = 5_000
    kafka_linger_ms: int = 0
    outbound_group: str = "ingest-outbound"
    rate_limit_per_second: float = Field(default=80.0, gt=0)
    send_max_attempts: int = Field(default=5, ge=1)
    send_backoff_s: float = Field(default=1.0, ge=0)
    send_backoff_max_s: float = Field(default=30.0, ge=0)
    channel_cache_ttl_s: float = 5.0
    token_keys: list[SecretStr] | None = Field(
        default=None,
        description="Fernet keys sealing channel access tokens at rest (first encrypts, all "
        "decrypt); none: tokens stored as given",
    )

    @model_validator(mode="after")
    def refuse_dev_app_in_production(self) -> "IngestSettings":
        if self.environment == "production" and DEV_APP_ID in self.meta_apps:
            raise ValueError("INGEST_META_APPS must name the real Meta app(s) in production")
        return self

    def app_secrets(self) -> list[tuple[str, bytes]]:
        return [
            (app_id, secret.get_secret_value().encode())
            for app_id, app in self.meta_apps.items()
            for secret in app.app_secrets
        ]

    def token_secrets(self) -> list[str]:
        return [key.get_secret_value() for key in self.token_keys or []]

    def verify_tokens(self) -> list[bytes]:
        return [app.verify_token.get_secret_value().encode() for app in self.meta_apps.values()]
