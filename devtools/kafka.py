"""A single-node KRaft Kafka broker run from the jars on Maven Central."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.offset import OffsetRequest

from devtools.jars import CACHE_DIR, ensure_jars
from devtools.procs import (
    ServerError,
    ServerProcess,
    free_port,
    port_open,
    run_coroutine,
    wait_until,
)
from hanout_shared.contracts.topics import ALL_TOPICS
from hanout_shared.platform.kafka import ensure_topics

JVM_OPTS = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
PROBE_GROUP = "hanout-readiness-probe"
LATEST = -1  # ListOffsets: the end of a partition


def cluster_id() -> str:
    while True:  # Kafka refuses ids starting with "-" on its command line
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(port: int, controller_port: int, log_dir: Path) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # After a crash the controller waits out the dead broker's session before the restarted
        # one may register: 4 s instead of the default 9 s, still 4 heartbeats long.
        "broker.heartbeat.interval.ms": "1000",
        "broker.session.timeout.ms": "4000",
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def log4j2_config(log_file: Path) -> str:
    return f"""<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <File name="broker" fileName="{log_file}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="broker"/></Root>
  </Loggers>
</Configuration>
"""


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServerError("`java` is not on PATH: Kafka needs Java 17+ (Debian: openjdk-17-jre)")
    return java


async def _coordinator_found(bootstrap_servers: str) -> bool:
    """The broker answers and can coordinate consumer groups. A fresh broker creates its offsets
    topic on the first lookup and has no coordinator until then: a consumer started earlier logs
    each failed lookup at ERROR."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
    try:
        await admin.start()
        await admin.find_coordinator(PROBE_GROUP)
    except Exception:
        return False
    finally:
        await admin.close()
    return True


async def _topics_ready(bootstrap_servers: str, names: Sequence[str]) -> bool:
    """The broker answers a consumer's first question (each partition's end offset) for every
    partition of these existing topics. A partition just created answers NotLeaderForPartition
    for a second or two after the metadata names its leader, and a consumer logs each at ERROR."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
    try:
        await admin.start()
        by_leader = _partitions_by_leader(await admin.describe_topics(list(names)))
        if by_leader is None:
            return False
        # The admin client has no ListOffsets call of its own: the request, sent as it sends any.
        answers = [
            await admin._send_request_to_node(leader, OffsetRequest(-1, 0, list(topics.items())))
            for leader, topics in by_leader.items()
        ]
    except Exception:
        return False
    finally:
        await admin.close()
    return all(
        not code for answer in answers for _, parts in answer.topics for _, code, *_ in parts
    )


def _partitions_by_leader(described: list[Any]) -> dict[int, dict[str, list[Any]]] | None:
    """{leader: {topic: [(partition, latest)]}}; None while a topic or partition has no leader."""
    found: dict[int, dict[str, list[Any]]] = {}
    for topic in described:
        if topic["error_code"] or not topic["partitions"]:
            return None
        for part in topic["partitions"]:
            if part["error_code"] or part["leader"] < 0:
                return None
            topics = found.setdefault(part["leader"], {})
            topics.setdefault(topic["topic"], []).append((part["partition"], LATEST))
    return found


class KafkaServer(ServerProcess):
    """One JVM acting as broker and controller, ready when it can coordinate consumer groups;
    restartable on the same data dir and ports.

    Without `data_dir` it uses a temporary one, removed by `close()`; without `port` it picks
    free ports. With a fixed `port` the controller listens on `port + 1` unless told otherwise.
    """

    ready_timeout = 60.0
    stop_grace = 30.0  # a controlled shutdown

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        cache_dir: Path = CACHE_DIR,
    ) -> None:
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hanout-kafka-"))
        self.port = port or free_port()
        self.controller_port = controller_port or (port + 1 if port else free_port())
        self.cache_dir = cache_dir
        scratch = None if data_dir else self.data_dir
        super().__init__(
            f"Kafka on {self.bootstrap_servers}", self.data_dir / "kafka.out", scratch_dir=scratch
        )

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def logs(self) -> list[Path]:
        return [self.log_file, self.data_dir / "broker.log"]

    def command(self) -> list[str]:
        """The broker's command line, after formatting a new data dir."""
        lib = ensure_jars(self.cache_dir)
        props = self._write_config()
        self._format(lib, props)
        return [_java(), *JVM_OPTS, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.xml'}",
                "-cp", f"{lib}/*", "kafka.Kafka", str(props)]  # fmt: skip

    def ready(self) -> bool:
        # aiokafka logs every refused connection, so wait quietly for the port first.
        if not port_open(self.port):
            return False
        return run_coroutine(lambda: _coordinator_found(self.bootstrap_servers))

    def create_topics(self, partitions: int, timeout: float = 30.0) -> float:
        """Create the services' topics as they would, and wait until every partition answers a
        consumer; the seconds it took."""
        bootstrap = self.bootstrap_servers
        run_coroutine(lambda: ensure_topics(bootstrap, partitions=partitions, replication=1))
        return wait_until(
            lambda: run_coroutine(lambda: _topics_ready(bootstrap, ALL_TOPICS)),
            what=f"the topics on {bootstrap}",
            timeout=timeout,
            proc=self.proc,
            logs=self.logs,
        )

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        log_dir = self.data_dir / "kraft"
        props.write_text(server_properties(self.port, self.controller_port, log_dir))
        (self.data_dir / "log4j2.xml").write_text(log4j2_config(self.logs[1]))
        return props

    def _format(self, lib: Path, props: Path) -> None:
        if (self.data_dir / "kraft" / "meta.properties").is_file():
            return
        cmd = [_java(), "-cp", f"{lib}/*", "kafka.tools.StorageTool", "format",
               "-t", cluster_id(), "-c", str(props), "--standalone", "-g"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServerError(f"Kafka storage format failed:\n{done.stdout}{done.stderr}")
