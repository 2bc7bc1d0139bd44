"""Ingest settings (env prefix INGEST_)."""

from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_ingest"
