"""The dev/test stack: real round trips through the broker and store, restarts, and the plumbing."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from devtools.jars import ensure_jars
from devtools.kafka import KafkaServer
from devtools.procs import (
    ServerError,
    ServerProcess,
    free_port,
    http_ready,
    start_process,
    stop_process,
    wait_until,
)
from devtools.services import HttpProcess
from devtools.stack import KAFKA_ENV, MONGO_ENV, Stack, running_stack
from hanout_shared.contracts.topics import ALL_TOPICS


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


@pytest.mark.integration
async def test_a_consumer_of_new_topics_on_a_fresh_broker_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kafka = KafkaServer()
    try:
        await asyncio.to_thread(kafka.start)
        await asyncio.to_thread(kafka.create_topics, 12)
        consumer = AIOKafkaConsumer(
            *ALL_TOPICS, bootstrap_servers=kafka.bootstrap_servers, group_id="fresh"
        )
        with caplog.at_level(logging.WARNING, logger="aiokafka"):
            await consumer.start()
            try:
                await consumer.getmany(timeout_ms=500)  # joins, then finds every position
                positions = [await consumer.position(tp) for tp in consumer.assignment()]
            finally:
                await consumer.stop()
    finally:
        await asyncio.to_thread(kafka.close)
    assert positions == [0] * 12 * len(ALL_TOPICS)
    # Only aiokafka's: an earlier test may have left our own loggers at INFO.
    said = [record.getMessage() for record in caplog.records if record.name.startswith("aiokafka")]
    assert said == []


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


class Script(ServerProcess):
    """`python -c code`, ready once its log says so."""

    ready_timeout = 10.0

    def __init__(self, code: str, log_file: Path) -> None:
        super().__init__("script", log_file)
        self.code = code

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.code]

    def ready(self) -> bool:
        return self.log_file.is_file() and "ready" in self.log_file.read_text()


def test_a_server_is_ready_when_its_probe_passes_and_stops_on_sigterm(tmp_path: Path) -> None:
    code = "import time; time.sleep(0.3); print('ready', flush=True); time.sleep(60)"
    with Script(code, tmp_path / "server.log") as server:
        assert server.running
        proc = server.proc
    assert not server.running and proc is not None and proc.returncode == -signal.SIGTERM


def test_a_server_that_ignores_sigterm_is_killed_after_its_grace(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    server = Script(code, tmp_path / "stubborn.log")
    server.start()
    proc, started = server.proc, time.monotonic()
    server.stop(grace=0.5)
    assert proc is not None and proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_a_server_that_exits_before_it_is_ready_fails_with_its_log(tmp_path: Path) -> None:
    server = Script("print('no config file', flush=True); raise SystemExit(3)", tmp_path / "x.log")
    with pytest.raises(ServerError, match=r"(?s)script: exited with code 3.*no config file"):
        server.start()
    assert server.proc is None


def test_a_server_never_ready_is_stopped_at_the_deadline(tmp_path: Path) -> None:
    server = Script("import time; time.sleep(60)", tmp_path / "slow.log")
    with pytest.raises(ServerError, match="script: not ready after 1 s"):
        server.start(timeout=1)
    assert server.proc is None


def test_an_http_server_is_ready_when_its_ready_path_answers_200(tmp_path: Path) -> None:
    port = free_port()
    assert not http_ready(f"http://127.0.0.1:{port}/healthz")
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
           "--directory", str(tmp_path)]  # fmt: skip
    (tmp_path / "up").write_text("ok")
    with HttpProcess("files", cmd, {}, tmp_path, port=port, ready_path="/up") as server:
        assert http_ready(f"{server.url}/up")
        assert not http_ready(f"{server.url}/missing")


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
