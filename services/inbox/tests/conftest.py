"""An inbox app on FastStream's in-memory broker and a fake store, and what it published."""

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faststream.kafka.testing
import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from hanout_shared.contracts import topics
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.outbox import OutboxRelay
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.app import create_app
from inbox.deps import InboxDeps
from inbox.kafka import inbox_events, outbound_commands
from inbox.library.ingest import IngestMedia
from inbox.live.hub import Hub
from inbox.settings import InboxSettings

from .builders import a_message_received, now, random_ref, real_store
from .fake_team import FakeIngest, FakeReader
from .fakes import FakeStore


def token_for(workspace_id: str, agent_id: str = "agent-1", role: str = "agent") -> dict[str, str]:
    token = mint_dev_token(
        DEV_JWT_SECRET,
        agent_id=agent_id,
        workspace_id=workspace_id,
        name=f"Agent {agent_id}",
        roles=[role],
    )
    return {"Authorization": f"Bearer {token}"}


def _bodies(publisher: Any, kind: str | None) -> list[dict[str, Any]]:
    sent = [call.args[0] for call in publisher.mock.call_args_list]
    # A batch subscriber on the topic (the live fan-out) sees each record as a batch of one.
    flat = [one for body in sent for one in (body if isinstance(body, list) else [body])]
    bodies = [json.loads(one) for one in flat]
    return [body for body in bodies if kind is None or body["type"] == kind]


@dataclass
class Service:
    http: httpx.AsyncClient
    broker: KafkaBroker
    store: Any  # a FakeStore, or the real Store
    deps: InboxDeps
    app: FastAPI
    ingest: FakeIngest
    reader: FakeReader
    letters: list[dict[str, Any]] = field(default_factory=list)
    workspace: str = field(default_factory=lambda: random_ref("ws"))

    @property
    def hub(self) -> Hub:
        return self.deps.hub

    @property
    def relay(self) -> OutboxRelay:
        return self.deps.relay

    def headers(self, agent_id: str = "agent-1", role: str = "agent") -> dict[str, str]:
        return token_for(self.workspace, agent_id, role)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return _bodies(inbox_events, kind)

    def commands(self, kind: str | None = None) -> list[dict[str, Any]]:
        return _bodies(outbound_commands, kind)

    async def deliver(self, topic: str, *events: Any) -> None:
        for event in events:
            await self.broker.publish(event.model_dump(mode="json"), topic)

    async def receive(self, *events: Any) -> None:
        await self.deliver(topics.WHATSAPP_INBOUND, *events)

    async def statuses(self, *events: Any) -> None:
        await self.deliver(topics.WHATSAPP_STATUS, *events)

    async def deliver_batch(self, topic: str, *events: Any) -> None:
        """One batch, as a batch consumer takes a burst from its partition."""
        bodies = [event.model_dump(mode="json") for event in events]
        await self.broker.publish_batch(*bodies, topic=topic)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(path, params=params, headers=self.headers())
        assert response.status_code == 200, response.text
        return response.json()

    async def conversations(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.get("/conversations", **params))["items"]
        return items

    async def send(
        self, conversation_id: str, content: dict[str, Any], key: str | None = None, **extra: Any
    ) -> httpx.Response:
        headers = self.headers() | {"Idempotency-Key": key or random_ref("click")}
        body = {"content": content, **extra}
        return await self.http.post(
            f"/conversations/{conversation_id}/messages", json=body, headers=headers
        )


TEXT = {"kind": "text", "body": "Ah, kayn. 199 DH m3a livraison."}


async def a_conversation(service: Service, hours_ago: float = 0) -> str:
    """A conversation opened by the customer `hours_ago`; its id."""
    sent_at = now() - timedelta(hours=hours_ago)
    await service.receive(a_message_received(workspace_id=service.workspace, sent_at=sent_at))
    [row] = await service.conversations()
    conversation: str = row["id"]
    return conversation


@pytest.fixture
def kafka_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-memory broker gives every record offset 0; the live hub needs Kafka's growing ones."""
    original, offsets = faststream.kafka.testing.build_message, itertools.count()

    async def numbered(*args: Any, **kwargs: Any) -> Any:
        record = await original(*args, **kwargs)
        record.offset = next(offsets)
        return record

    monkeypatch.setattr(faststream.kafka.testing, "build_message", numbered)


@pytest.fixture
async def service(kafka_offsets: None, request: pytest.FixtureRequest) -> AsyncIterator[Service]:
    """Settings may be changed per test: `@pytest.mark.parametrize("service", [{...}],
    indirect=True)`."""
    async with running(FakeStore(), getattr(request, "param", {})) as started:
        yield started


@pytest.fixture
async def real_service(kafka_offsets: None, mongodb_url: str) -> AsyncIterator[Service]:
    """The same on a scratch database of the real store (mark such tests `integration`)."""
    async with real_store(mongodb_url, "inbox_api") as store:
        async with running(store, {}) as started:
            yield started


@contextlib.asynccontextmanager
async def running(store: Any, changed: dict[str, Any]) -> AsyncIterator[Service]:
    broker, ingest, reader = KafkaBroker(), FakeIngest(), FakeReader()
    settings = InboxSettings(presence_ttl_s=0.6, stream_keepalive_s=0.2, **changed)
    app = create_app(
        settings,
        broker=broker,
        store=store,
        ingest=IngestMedia(ingest.client()),
        topic_reader=reader,  # type: ignore[arg-type]
    )
    deps: InboxDeps = app.state.deps
    deps.hub.ready.set()  # no lifespan here: the in-memory broker delivers at once
    letters: list[dict[str, Any]] = []

    @broker.subscriber(topics.INBOX_DEADLETTER)
    async def collect_letter(message: KafkaMessage) -> None:
        letters.append(json.loads(message.body))

    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inbox") as http:
            yield Service(http, broker, store, deps, app, ingest, reader, letters)
