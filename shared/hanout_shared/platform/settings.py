"""Settings every service shares; each service subclasses with its own env prefix."""

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "hanout-development-secret-change-me"


class ServiceSettings(BaseSettings):
    """Kafka and the store are reached only through these two URLs (a real cluster is config)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias=AliasChoices("environment", "HANOUT_ENV")
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("kafka_bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017",
        validation_alias=AliasChoices("mongodb_url", "MONGODB_URL"),
    )
    topic_partitions: int = Field(
        default=12,
        ge=1,
        validation_alias=AliasChoices("topic_partitions", "KAFKA_TOPIC_PARTITIONS"),
    )
    topic_replication: int = Field(
        default=1,
        ge=1,
        validation_alias=AliasChoices("topic_replication", "KAFKA_TOPIC_REPLICATION"),
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET),
        validation_alias=AliasChoices("jwt_secret", "AUTH_JWT_SECRET"),
    )
    jwks_url: str | None = Field(
        default=None, validation_alias=AliasChoices("jwks_url", "AUTH_JWKS_URL")
    )
    jwt_audience: str | None = Field(
        default=None, validation_alias=AliasChoices("jwt_audience", "AUTH_JWT_AUDIENCE")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("log_level", "LOG_LEVEL"))
    max_request_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Largest JSON request body an API takes (413 body_too_large above); "
        "uploads and Meta's webhook enforce their own limits",
        validation_alias=AliasChoices("max_request_body_bytes", "MAX_REQUEST_BODY_BYTES"),
    )
    startup_timeout_s: float = Field(
        default=60.0, validation_alias=AliasChoices("startup_timeout_s", "STARTUP_TIMEOUT_S")
    )

    @model_validator(mode="after")
    def refuse_placeholder_secrets(self) -> "ServiceSettings":
        if self.environment == "production" and not self.jwks_url:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEV_JWT_SECRET or len(secret) < 32:
                raise ValueError(
                    "AUTH_JWT_SECRET must be a real secret of 32+ characters in production "
                    "(or set AUTH_JWKS_URL)"
                )
        return self
