"""Orders settings (env prefix ORDERS_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_orders"
    consumer_group: str = Field(
        default="orders",
        min_length=1,
        description="Kafka group id of the customer-events consumer (one per deployment)",
    )
    first_order_number: int = Field(default=1001, ge=1, description="A workspace's first number")
    outbox_sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often events left pending by a failed publish retry"
    )
    customer_wait_s: float = Field(
        default=3.0,
        ge=0,
        description="How long an order for a customer not known yet waits for its event",
    )
    publish_timeout_s: float = Field(
        default=3.0, gt=0, description="How long a request waits for Kafka before answering"
    )
