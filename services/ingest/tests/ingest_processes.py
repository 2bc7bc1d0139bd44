"""Ingest and the Meta simulator as separate processes on the real broker and store."""

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devtools.groups import start_groups_at_end
from devtools.procs import (
    Process,
    free_port,
    run_coroutine,
    start_process,
    stop_process,
    wait_until,
)
from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

from .ingest_builders import ALL_TOPICS, TEST_APP, TEST_SECRET, VERIFY_TOKEN


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class SimulatorProcess:
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "SIMULATOR_PORT": str(self.port)}
        log = self.log_dir / "simulator.log"
        self.proc = start_process([sys.executable, "-m", "simulator"], log, env=env)
        wait_until(lambda: _healthy(self.url), what="simulator", timeout=30, proc=self.proc,
                   logs=[log])  # fmt: skip

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=5)
            self.proc = None


def ingest_env(kafka: str, mongo: str, graph_url: str, **extra: str) -> dict[str, str]:
    """Its own database and command group: other stacks on the shared broker stay apart."""
    apps = {TEST_APP: {"app_secrets": [TEST_SECRET], "verify_token": VERIFY_TOKEN}}
    group = f"ingest-outbound-{uuid.uuid4().hex[:8]}"
    run_coroutine(lambda: start_groups_at_end(kafka, {group: [topics.WHATSAPP_OUTBOUND]}))
    return infra_env(
        kafka, mongo,
        HANOUT_ENV="test",
        INGEST_OUTBOUND_GROUP=group,
        INGEST_MONGODB_DATABASE=f"ingest_{uuid.uuid4().hex[:8]}",
        INGEST_META_APPS=json.dumps(apps),
        INGEST_GRAPH_API_URL=graph_url,
        INGEST_SEND_BACKOFF_S="0.05",
        **extra,
    )  # fmt: skip


def start_pair(kafka: str, mongo: str, log_dir: Path, **extra: str) -> tuple[Any, Any]:
    """Ingest and the simulator, each pointing at the other."""
    ingest_port = free_port()
    simulator = SimulatorProcess({
        "SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{ingest_port}/webhooks/whatsapp",
        "SIMULATOR_APP_SECRET": TEST_SECRET, "SIMULATOR_RETRY_INITIAL_S": "0.2",
        "SIMULATOR_RETRY_MAX_S": "1", "SIMULATOR_STATUS_DELAY_S": "0.05",
    }, log_dir)  # fmt: skip
    simulator.start()
    env = ingest_env(kafka, mongo, simulator.url, **extra)
    ingest = ServiceProcess("ingest", env, log_dir, port=ingest_port)
    ingest.start()
    try:
        ingest.wait_ready()
    except BaseException:
        ingest.stop()
        simulator.stop()
        raise
    return ingest, simulator


def admin_headers(workspace_id: str) -> dict[str, str]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="admin-1", workspace_id=workspace_id,
                           roles=["admin"])  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


class TopicReader:
    """Reads ingest's topics from the offsets they had when it started, filtered by workspace."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
        self.records: list[Any] = []

    async def start(self) -> None:
        await self._consumer.start()
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap)
        await producer.start()
        try:  # the producer waits for the metadata the consumer's cache may lack
            partitions = [TopicPartition(t, p) for t in ALL_TOPICS
                          for p in await producer.partitions_for(t)]  # fmt: skip
        finally:
            await producer.stop()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end offsets now, before anything is produced
            await self._consumer.position(tp)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def wait_for(self, check: Callable[[list[Any]], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)
            if result := check(self.records):
                return result
        raise AssertionError(f"not seen within {timeout} s; {len(self.records)} records read")

    def events(self, topic: str, workspace_id: str) -> list[dict[str, Any]]:
        found = [json.loads(r.value) for r in self.records if r.topic == topic]
        return [e for e in found if e.get("workspaceid") == workspace_id]
