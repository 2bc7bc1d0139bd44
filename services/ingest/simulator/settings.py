"""Simulator settings (env prefix SIMULATOR_)."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_APP_SECRET = "hanout-dev-app-secret"


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMULATOR_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    public_url: str | None = None
    webhook_url: str = "http://127.0.0.1:8001/webhooks/whatsapp"
    app_secret: SecretStr = SecretStr(DEV_APP_SECRET)
    auto_statuses: list[str] = ["sent", "delivered", "read"]
    status_delay_s: float = 0.05
    retry_initial_s: float = 1.0
    retry_max_s: float = 60.0
    retry_for_s: float = 7 * 24 * 3600.0
    template_page_size: int = 2
    log_level: str = "INFO"

    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
