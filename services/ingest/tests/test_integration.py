"""Ingest and the Meta simulator as separate processes on the shared real broker and store."""

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hanout_shared.contracts import topics
from ingest.channels.store import ChannelStore
from ingest.store import connect
from ingest.webhooks.replay import replay

from .ingest_builders import PNID, PNID_2, WABA, WABA_2, a_send, example, example_names
from .ingest_processes import TopicReader, admin_headers, start_pair
from .test_webhook_examples import EXPECTED, summary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pair(kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any) -> Iterator[Any]:
    logs = Path(tmp_path_factory.mktemp("ingest-logs"))
    ingest, simulator = start_pair(kafka_bootstrap_servers, mongodb_url, logs)
    try:
        yield ingest, simulator
    finally:
        ingest.stop()
        simulator.stop()


@pytest.fixture
async def reader(kafka_bootstrap_servers: str) -> AsyncIterator[TopicReader]:
    found = TopicReader(kafka_bootstrap_servers)
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


def register(url: str, workspace_id: str, phone_number_id: str, waba_id: str) -> None:
    channel = {
        "phone_number_id": phone_number_id,
        "meta_app_id": "test-app",
        "waba_id": waba_id,
        "access_token": f"EAAG-{uuid.uuid4().hex}",
        "display_phone_number": "212522000111",
    }
    response = httpx.post(f"{url}/channels", json=channel, headers=admin_headers(workspace_id))
    assert response.status_code in (201, 409), response.text


def workspace_of(url: str) -> str:
    """The examples' numbers are registered once per ingest database, in one workspace."""
    workspace = getattr(workspace_of, url, None) or f"ws-{uuid.uuid4().hex[:8]}"
    setattr(workspace_of, url, workspace)
    register(url, workspace, PNID, WABA)
    register(url, workspace, PNID_2, WABA_2)
    return workspace


def raw_values(records: list[Any]) -> set[bytes]:
    return {r.value for r in records if r.topic == topics.WEBHOOKS_RAW}


def derived(reader: TopicReader, workspace: str) -> list[dict[str, Any]]:
    kinds = (topics.WHATSAPP_INBOUND, topics.WHATSAPP_STATUS, topics.WHATSAPP_OUTBOUND)
    return [e for topic in kinds for e in reader.events(topic, workspace)]


async def test_every_example_lands_on_the_real_broker_as_the_expected_events(
    pair: Any, reader: TopicReader
) -> None:
    ingest, _ = pair
    workspace = workspace_of(ingest.url)
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        for name in example_names():
            body, signature = example(name)
            headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
            response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
            assert response.status_code == 200, name
    bodies = {example(name)[0] for name in example_names()}
    await reader.wait_for(lambda records: bodies <= raw_values(records))
    expected = sorted(e for name in example_names() for e in EXPECTED[name])
    await reader.wait_for(lambda _: len(derived(reader, workspace)) >= len(expected))
    assert sorted(summary(e) for e in derived(reader, workspace)) == expected


async def test_a_customer_message_from_the_simulator_becomes_an_event(
    pair: Any, reader: TopicReader
) -> None:
    ingest, simulator = pair
    workspace = workspace_of(ingest.url)
    spec = {"type": "location", "content": {"latitude": 34.02, "longitude": -6.83}}
    answer = httpx.post(f"{simulator.url}/_sim/inbound", json=spec).json()

    def arrived(_: Any) -> Any:
        events = reader.events(topics.WHATSAPP_INBOUND, workspace)
        return [e for e in events if e["data"]["wamid"] == answer["wamids"][0]]

    [event] = await reader.wait_for(arrived)
    assert event["data"]["location"]["latitude"] == 34.02


async def test_a_send_command_reaches_meta_once_and_its_statuses_come_back(
    pair: Any, reader: TopicReader, kafka_bootstrap_servers: str
) -> None:
    ingest, simulator = pair
    workspace = workspace_of(ingest.url)
    command = a_send(workspace, {"kind": "text", "body": f"Salam {uuid.uuid4().hex}"})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for _ in range(2):  # a redelivered command
            await producer.send_and_wait(
                topics.WHATSAPP_OUTBOUND, command.model_dump_json().encode(), key=command.key()
            )
    finally:
        await producer.stop()

    def statuses(_: Any) -> Any:
        found = [e for e in reader.events(topics.WHATSAPP_STATUS, workspace)
                 if e["subject"] == command.data.conversation_key]  # fmt: skip
        kinds = [e["data"].get("status") or e["type"] for e in found]
        expected = {"whatsapp.message.accepted", "sent", "delivered", "read"}
        return found if expected <= set(kinds) else None

    found = await reader.wait_for(statuses)
    accepted = [e for e in found if e["type"] == "whatsapp.message.accepted"]
    assert len({e["id"] for e in accepted}) == 1
    requests = httpx.get(f"{simulator.url}/_sim/requests", params={"endpoint": "messages"}).json()
    key = command.data.idempotency_key
    assert [r["body"].get("biz_opaque_callback_data") for r in requests].count(key) == 1


async def test_replay_republishes_a_time_range_with_the_same_ids(
    pair: Any, reader: TopicReader, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    ingest, _ = pair
    workspace = workspace_of(ingest.url)
    since = datetime.now(UTC) - timedelta(seconds=1)
    body, signature = example("batch_multi_entry.json")
    headers = {"X-Hub-Signature-256": signature}
    assert (
        httpx.post(f"{ingest.url}/webhooks/whatsapp", content=body, headers=headers).status_code
        == 200
    )
    first = await reader.wait_for(
        lambda _: (
            len(reader.events(topics.WHATSAPP_INBOUND, workspace)) >= 1
            and reader.events(topics.WHATSAPP_INBOUND, workspace)
        )
    )
    client = connect(mongodb_url)
    try:
        database = ingest.env["INGEST_MONGODB_DATABASE"]
        records = await ChannelStore(client[database]).all_channels()
    finally:
        await client.close()
    channels = {r.phone_number_id: r for r in records}
    until = datetime.now(UTC) + timedelta(seconds=1)
    report = await replay(kafka_bootstrap_servers, channels, since, until)
    assert report.bodies >= 1 and report.events >= 8
    ids = {e["id"] for e in first}
    await reader.wait_for(
        lambda _: (
            [e["id"] for e in reader.events(topics.WHATSAPP_INBOUND, workspace)].count(
                next(iter(ids))
            )
            >= 2
        )
    )
