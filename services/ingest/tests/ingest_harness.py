"""Ingest under test: the app on FastStream's in-memory broker, a fake store, an HTTP client,
and (on request) the Meta simulator in-process as its Graph API and webhook sender."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import SecretStr
from simulator.app import create_app as create_simulator
from simulator.settings import SimulatorSettings
from starlette.types import Receive, Scope, Send

from hanout_shared.contracts import CloudEvent, topics
from ingest.app import create_app
from ingest.deps import IngestDeps

from .ingest_builders import TEST_SECRET, Captured, a_channel, random_ref, settings
from .ingest_fakes import FakeStore


@dataclass
class Ingest:
    client: httpx.AsyncClient
    captured: Captured
    store: FakeStore
    workspace_id: str
    app: FastAPI
    broker: KafkaBroker
    sim: httpx.AsyncClient

    @property
    def deps(self) -> IngestDeps:
        """What the app was composed of (the platform keeps it for `Depends(dependencies)`)."""
        deps: IngestDeps = self.app.state.deps
        return deps

    def metric(self, name: str, **labels: str) -> float:
        return float(self.deps.metrics.registry.get_sample_value(name, labels) or 0.0)

    async def post_webhook(self, body: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.client.post("/webhooks/whatsapp", content=body, headers=headers)

    async def command(self, event: CloudEvent | bytes) -> None:
        """Put a command on whatsapp.outbound.v1 (the in-memory broker runs ingest's handler)."""
        body = event if isinstance(event, bytes) else event.model_dump_json().encode()
        await self.broker.publish(body, topics.WHATSAPP_OUTBOUND)

    async def graph_requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        params = {"endpoint": endpoint} if endpoint else {}
        rows: list[dict[str, Any]] = (await self.sim.get("/_sim/requests", params=params)).json()
        return rows


class Forward:
    """An ASGI app that forwards to one created later (ingest and the simulator call each other)."""

    target: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.target(scope, receive, send)


async def _body(message: StreamMessage[Any]) -> bytes:
    return message.body


def capture_consumer_dead_letters(broker: KafkaBroker, captured: Captured) -> None:
    """ingest.deadletter.v1 (what the outbound consumer could not read) joins the captures."""

    async def keep(body: bytes, message: KafkaMessage) -> None:
        captured.messages[topics.INGEST_DEADLETTER].append(message)

    group = "capture-ingest-deadletter"
    broker.subscriber(topics.INGEST_DEADLETTER, group_id=group, decoder=_body)(keep)


@asynccontextmanager
async def running_ingest(**overrides: Any) -> AsyncIterator[Ingest]:
    """Ingest with one channel (the examples' first number) in a fresh workspace, whose Graph API
    is the simulator; the simulator's webhooks come back to this ingest."""
    store, broker, workspace = FakeStore(), KafkaBroker(), random_ref("ws")
    await store.channels.add(a_channel(workspace))
    to_ingest = Forward()
    sim_settings = SimulatorSettings(
        app_secret=SecretStr(TEST_SECRET),
        webhook_url="http://ingest/webhooks/whatsapp",
        public_url="http://graph.test",
        status_delay_s=0.0,
        retry_initial_s=0.01,
        retry_max_s=0.5,
        auto_statuses=[],
    )
    simulator = create_simulator(sim_settings, webhook_transport=httpx.ASGITransport(to_ingest))
    app = create_app(
        settings(**overrides),
        broker=broker,
        store=store,  # type: ignore[arg-type]
        graph_transport=httpx.ASGITransport(app=simulator),
    )
    to_ingest.target = app
    captured = Captured(broker)
    capture_consumer_dead_letters(broker, captured)
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        sim_transport = httpx.ASGITransport(app=simulator)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://ingest") as client,
            httpx.AsyncClient(transport=sim_transport, base_url="http://graph.test") as sim,
        ):
            try:
                yield Ingest(client, captured, store, workspace, app, broker, sim)
            finally:
                await simulator.state.deliverer.stop()
