"""Customers settings (env prefix CUSTOMERS_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUSTOMERS_", extra="ignore", populate_by_name=True
    )

    mongodb_database: str = "hanout_customers"
    consumer_group: str = Field(
        default="customers",
        min_length=1,
        description="Kafka group ids start with this (`<group>.inbound`, `<group>.orders`)",
    )
    outbox_sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often events a failed publish left pending retry"
    )
    publish_timeout_s: float = Field(
        default=3.0, gt=0, description="How long a request waits for Kafka before answering"
    )
    import_max_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest CSV file an import accepts"
    )
    import_batch_rows: int = Field(
        default=500, ge=1, le=5000, description="Rows an import checks and writes at a time"
    )
    import_spool_dir: str | None = Field(
        default=None, description="Where an upload waits on disk while it imports (temp dir)"
    )
