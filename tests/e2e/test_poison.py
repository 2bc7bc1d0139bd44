"""A poison record on every topic a service consumes lands on that service's dead-letter topic,
with its reason and where it was read: never only a log line, and the partition moves on."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from hanout_shared.contracts import topics

from .stack import Stack
from .tap import Tap

pytestmark = pytest.mark.e2e

# Who reads what (ARCHITECTURE.md §2), and where each reader sends what it cannot read.
READERS = {
    topics.WHATSAPP_INBOUND: [topics.INBOX_DEADLETTER, topics.CUSTOMERS_DEADLETTER],
    topics.WHATSAPP_STATUS: [topics.INBOX_DEADLETTER],
    topics.CUSTOMERS_EVENTS: [topics.INBOX_DEADLETTER, topics.ORDERS_DEADLETTER],
    topics.ORDERS_EVENTS: [topics.INBOX_DEADLETTER, topics.CUSTOMERS_DEADLETTER],
    topics.WHATSAPP_OUTBOUND: [topics.INGEST_DEADLETTER],
}
DEADLETTERS = sorted({letter for letters in READERS.values() for letter in letters})


async def tapped(bootstrap: str) -> dict[str, Tap]:
    taps = {topic: Tap(bootstrap, topic) for topic in DEADLETTERS}
    for tap in taps.values():
        await tap.start()
    return taps


async def publish_poison(bootstrap: str, workspace: str) -> dict[str, bytes]:
    """One record per topic: JSON that names a workspace, but no event of the topic's contract."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent = {}
    try:
        for topic in READERS:
            body = json.dumps({"workspaceid": workspace, "poison_on": topic}).encode()
            await producer.send_and_wait(topic, body, key=workspace.encode())
            sent[topic] = body
    finally:
        await producer.stop()
    return sent


async def test_a_poison_record_on_each_consumed_topic_is_dead_lettered_with_its_reason(
    stack: Stack, kafka_bootstrap_servers: str
) -> None:
    workspace = f"poison-{uuid.uuid4().hex[:8]}"
    taps = await tapped(kafka_bootstrap_servers)
    try:
        sent = await publish_poison(kafka_bootstrap_servers, workspace)
        wanted = {(topic, letters) for topic, readers in READERS.items() for letters in readers}
        found: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 60
        while found != wanted and time.monotonic() < deadline:
            for name, tap in taps.items():
                for letter in await tap.read(workspace):
                    data = letter["data"]
                    assert letter["type"] == "hanout.event.dead_lettered"
                    assert data["reason"] == "invalid_event" and data["detail"]
                    assert data["raw_text"] == sent[data["topic"]].decode()
                    assert data["offset"] >= 0 and data["partition"] >= 0
                    found.add((data["topic"], name))
            await asyncio.sleep(0.1)
        assert found == wanted
    finally:
        for tap in taps.values():
            await tap.stop()
