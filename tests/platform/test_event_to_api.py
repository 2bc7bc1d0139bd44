"""The whole path on real parts: an event on the real broker, consumed by the inbox running as its
own process, written to the real store, and read back through the inbox's HTTP API."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devtools.groups import start_groups_at_end
from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MessageReceived,
    MessageReceivedEvent,
    conversation_key,
)
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.kafka import durable_groups

pytestmark = pytest.mark.integration


async def skip_history(bootstrap: str, group: str) -> None:
    """Start the inbox's groups at the end of their topics: the shared broker holds other tests'
    messages, which the inbox would otherwise read from the earliest first."""
    await start_groups_at_end(bootstrap, durable_groups(group))


@pytest.fixture(scope="module")
def inbox(kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any) -> Iterator[str]:
    name = f"inbox_{uuid.uuid4().hex[:8]}"
    asyncio.run(skip_history(kafka_bootstrap_servers, name))
    env = infra_env(
        kafka_bootstrap_servers,
        mongodb_url,
        HANOUT_ENV="test",
        INBOX_MONGODB_DATABASE=name,
        INBOX_CONSUMER_GROUP=name,
    )
    service = ServiceProcess("inbox", env, Path(tmp_path_factory.mktemp("logs")))
    service.start()
    try:
        service.wait_ready()
        yield service.url
    finally:
        service.stop()


def a_message(workspace_id: str, wamid: str, text: str) -> MessageReceivedEvent:
    key = conversation_key(workspace_id, "110928374650192", "212612345678")
    sent_at = datetime.now(UTC).replace(microsecond=0)
    data = MessageReceived(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id="110928374650192"),
        contact=ContactIdentity(wa_id="212612345678", profile_name="Fatima Zahra"),
        message_type="text",
        sent_at=sent_at,
        text=text,
    )
    return MessageReceivedEvent.create(
        source="hanout/test",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(wamid, "received"),
    )


async def publish(bootstrap: str, *events: MessageReceivedEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            body = json.dumps(event.model_dump(mode="json")).encode()
            await producer.send_and_wait(topics.WHATSAPP_INBOUND, body, key=event.key())
    finally:
        await producer.stop()


def conversations(url: str, workspace_id: str) -> list[dict[str, Any]]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="agent-1", workspace_id=workspace_id)
    response = httpx.get(f"{url}/conversations", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["items"]
    return rows


def poll(check: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


async def test_an_event_on_the_broker_is_listed_by_the_inbox_api(
    inbox: str, kafka_bootstrap_servers: str
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    await publish(
        kafka_bootstrap_servers,
        a_message(workspace, f"wamid.{uuid.uuid4().hex}", "Salam, bghit n3ref taman"),
    )
    [row] = poll(lambda: conversations(inbox, workspace))
    assert row["display_name"] == "Fatima Zahra"
    assert row["last_message"]["preview"] == "Salam, bghit n3ref taman"
    assert row["unread_count"] == 1
    assert conversations(inbox, f"ws-{uuid.uuid4().hex[:8]}") == []


async def test_a_redelivered_event_is_stored_once(inbox: str, kafka_bootstrap_servers: str) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    first = a_message(workspace, f"wamid.{uuid.uuid4().hex}", "wach kayn livraison l Tanger?")
    marker = a_message(workspace, f"wamid.{uuid.uuid4().hex}", "chokran")
    await publish(kafka_bootstrap_servers, first, first, marker)
    # The marker comes after the duplicate on the same partition: once it is in, so is the rest.
    [row] = poll(
        lambda: [
            r for r in conversations(inbox, workspace) if r["last_message"]["preview"] == "chokran"
        ]
    )
    assert row["unread_count"] == 2
