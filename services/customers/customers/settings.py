"""Customers settings (env prefix CUSTOMERS_)."""

from pydantic_settings import SettingsConfigDict

from hanout_shared.platform.settings import ServiceSettings


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUSTOMERS_", extra="ignore", populate_by_name=True
    )

    mongodb_database: str = "hanout_customers"
