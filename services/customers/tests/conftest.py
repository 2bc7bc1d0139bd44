"""A customers app on FastStream's in-memory broker and a fake store, and what it published."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from customers.app import create_app
from customers.handlers import customer_events
from customers.settings import CustomersSettings
from hanout_shared.contracts import topics

from .builders import random_ref, token_for
from .fakes import FakeStore


@dataclass
class Service:
    http: httpx.AsyncClient
    broker: KafkaBroker
    store: FakeStore
    workspace: str = field(default_factory=lambda: random_ref("ws"))

    def headers(self, role: str = "agent") -> dict[str, str]:
        return token_for(self.workspace, role=role)

    def published(self, kind: str | None = None) -> list[dict[str, Any]]:
        calls = customer_events.mock.call_args_list  # type: ignore[union-attr]
        bodies = [json.loads(call.args[0]) for call in calls]
        return [b for b in bodies if kind is None or b["type"] == kind]

    async def deliver(self, topic: str, *events: Any) -> None:
        for event in events:
            await self.broker.publish(event.model_dump(mode="json"), topic)

    async def deliver_message(self, *events: Any) -> None:
        await self.deliver(topics.WHATSAPP_INBOUND, *events)

    async def deliver_order(self, *events: Any) -> None:
        await self.deliver(topics.ORDERS_EVENTS, *events)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    store, broker = FakeStore(), KafkaBroker()
    app = create_app(CustomersSettings(import_batch_rows=3), broker=broker, store=store)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://customers") as http:
            yield Service(http, broker, store)
