"""The dev/test stack: real round trips through the broker and store, restarts, and the plumbing."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from devtools.jars import ensure_jars
from devtools.procs import ServerError, start_process, stop_process, wait_until
from devtools.stack import KAFKA_ENV, MONGO_ENV, Stack, running_stack


def a_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def produce(bootstrap_servers: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def consume_first(bootstrap_servers: str, topic: str, timeout: float = 30.0) -> bytes:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=a_name("group"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout)
    finally:
        await consumer.stop()
    value: bytes = message.value
    return value


@pytest.mark.integration
async def test_a_produced_message_is_consumed(kafka_bootstrap_servers: str) -> None:
    topic, value = a_name("roundtrip"), uuid.uuid4().bytes
    await produce(kafka_bootstrap_servers, topic, value)
    assert await consume_first(kafka_bootstrap_servers, topic) == value


@pytest.mark.integration
async def test_the_store_finds_what_was_inserted(mongodb_url: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url)
    try:
        collection = client["devtools_test"][a_name("things")]
        key = uuid.uuid4().hex
        await collection.insert_one({"_id": key, "name": "olive oil"})
        assert await collection.find_one({"_id": key}) == {"_id": key, "name": "olive oil"}
    finally:
        await client.close()


@pytest.mark.integration
@pytest.mark.parametrize("grace", [30.0, 0.0], ids=["controlled-shutdown", "sigkill"])
async def test_an_acknowledged_message_survives_a_broker_restart(
    infra: Stack, grace: float
) -> None:
    if infra.kafka is None:
        pytest.skip("the broker is external: nothing to restart")
    topic, value = a_name("restart"), uuid.uuid4().bytes
    await produce(infra.kafka_bootstrap_servers, topic, value)
    await asyncio.to_thread(infra.kafka.stop, grace=grace)
    await asyncio.to_thread(infra.kafka.start)
    assert await consume_first(infra.kafka_bootstrap_servers, topic) == value


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    proc = start_process([sys.executable, "-c", code], log)
    wait_until(lambda: "ready" in log.read_text(), what="stubborn", timeout=10, proc=proc)
    started = time.monotonic()
    stop_process(proc, grace=0.5)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_fetching_jars_without_maven_fails_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="Maven"):
        ensure_jars(tmp_path)


def test_the_stack_uses_the_servers_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KAFKA_ENV, "kafka.example:9092")
    monkeypatch.setenv(MONGO_ENV, "mongodb://store.example:27017")
    with running_stack() as stack:
        assert stack == Stack("kafka.example:9092", "mongodb://store.example:27017")
