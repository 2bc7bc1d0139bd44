"""The simulator's FastAPI app: Graph API routes, control routes, and the webhook deliverer."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from simulator import control, graph
from simulator.settings import SimulatorSettings
from simulator.state import SimState, StatusPlan
from simulator.webhooks import Deliverer

DISPLAY_NUMBERS = {"110928374650192": "212522000111", "110928374650288": "212537000222"}


def create_app(
    settings: SimulatorSettings | None = None,
    *,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or SimulatorSettings()
    logging.basicConfig(level=settings.log_level.upper())
    http = httpx.AsyncClient(timeout=10.0, transport=webhook_transport)
    deliverer = Deliverer(
        http,
        settings.app_secret.get_secret_value(),
        settings.retry_initial_s,
        settings.retry_max_s,
        settings.retry_for_s,
    )
    deliverer.url = settings.webhook_url

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await deliverer.stop()
            await http.aclose()

    app = FastAPI(title="Meta simulator", version="0.1.0", lifespan=lifespan)
    app.state.sim = SimState(settings.webhook_url, StatusPlan(list(settings.auto_statuses)))
    app.state.deliverer = deliverer
    app.state.base_url = settings.base_url()
    app.state.status_delay_s = settings.status_delay_s
    app.state.template_page_size = settings.template_page_size
    app.state.display_numbers = {
        "110928374650192": "212522000111",
        "110928374650288": "212537000222",
    }

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "meta-simulator"}

    app.include_router(control.router)
    app.include_router(graph.router)
    return app
