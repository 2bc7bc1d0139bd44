"""Orders settings (env prefix ORDERS_)."""

from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "hanout_orders"
