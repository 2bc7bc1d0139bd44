"""A customers app on FastStream's in-memory broker and a fake store, and what it published."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry

from customers.app import create_app
from customers.deps import CustomersDeps
from customers.events import customer_events
from customers.settings import CustomersSettings
from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.outbox import OutboxRelay

from .builders import random_ref, token_for
from .fakes import FakeStore


@dataclass
class Service:
    http: httpx.AsyncClient
    broker: KafkaBroker
    store: FakeStore
    relay: OutboxRelay
    letters: list[dict[str, Any]]  # what the service sent to its dead-letter topic
    workspace: str = field(default_factory=lambda: random_ref("ws"))

    def headers(self, role: str = "agent") -> dict[str, str]:
        return token_for(self.workspace, role=role)

    def published(self, kind: str | None = None) -> list[dict[str, Any]]:
        calls = customer_events.mock.call_args_list  # type: ignore[union-attr]
        # The CloudEvents decoder hands the mock a dict; anything else arrives as JSON text.
        bodies = [b if isinstance(b := call.args[0], dict) else json.loads(b) for call in calls]
        return [b for b in bodies if kind is None or b["type"] == kind]

    async def deliver(self, topic: str, *events: Any) -> None:
        for event in events:  # as real producers send them: structured-mode CloudEvents
            body = json.dumps(event.model_dump(mode="json")).encode()
            await self.broker.publish(body, topic, headers={"content-type": CONTENT_TYPE})

    async def deliver_message(self, *events: Any) -> None:
        await self.deliver(topics.WHATSAPP_INBOUND, *events)

    async def deliver_order(self, *events: Any) -> None:
        await self.deliver(topics.ORDERS_EVENTS, *events)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    # The production broker (its CloudEvents decoder and middlewares), on the in-memory transport.
    broker = make_broker("localhost:9092", client_id="customers", registry=CollectorRegistry())
    letters: list[dict[str, Any]] = []

    @broker.subscriber(topics.CUSTOMERS_DEADLETTER)
    async def collect_letter(message: KafkaMessage) -> None:
        letters.append(json.loads(message.body))

    store = FakeStore()
    app = create_app(CustomersSettings(import_batch_rows=3), broker=broker, store=store)  # type: ignore[arg-type]
    deps: CustomersDeps = app.state.deps
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://customers") as http:
            yield Service(http, broker, store, deps.relay, letters)
