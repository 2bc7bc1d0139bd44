"""A single-node KRaft Kafka broker run from the jars on Maven Central."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from aiokafka.admin import AIOKafkaAdminClient

from devtools.jars import CACHE_DIR, ensure_jars
from devtools.procs import (
    Process,
    ServerError,
    free_port,
    port_open,
    run_coroutine,
    start_process,
    stop_process,
    wait_until,
)

JVM_OPTS = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
READY_TIMEOUT = 60.0
STOP_GRACE = 30.0


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


async def _broker_answers(bootstrap_servers: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster["brokers"])
    except Exception:
        return False
    finally:
        await admin.close()


class KafkaServer:
    """One JVM acting as broker and controller; restartable on the same data dir and ports.

    Without `data_dir` it uses a temporary one, removed by `close()`; without `port` it picks
    free ports. With a fixed `port` the controller listens on `port + 1` unless told otherwise.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        cache_dir: Path = CACHE_DIR,
    ) -> None:
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hanout-kafka-"))
        self.port = port or free_port()
        self.controller_port = controller_port or (port + 1 if port else free_port())
        self.cache_dir = cache_dir
        self._proc: Process | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_files(self) -> list[Path]:
        return [self.data_dir / "kafka.out", self.data_dir / "broker.log"]

    def start(self) -> float:
        """Start (formatting a new data dir first), block until it answers; return the seconds."""
        if self._proc is not None:
            raise ServerError("Kafka is already running")
        started = time.monotonic()
        lib = ensure_jars(self.cache_dir)
        props = self._write_config()
        self._format(lib, props)
        cmd = [_java(), *JVM_OPTS, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.xml'}",
               "-cp", f"{lib}/*", "kafka.Kafka", str(props)]  # fmt: skip
        self._proc = start_process(cmd, self.log_files[0])
        try:
            wait_until(
                self._answers,
                what=f"Kafka on {self.bootstrap_servers}",
                timeout=READY_TIMEOUT,
                proc=self._proc,
                logs=self.log_files,
            )
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - started

    def _answers(self) -> bool:
        # aiokafka logs every refused connection, so wait quietly for the port first.
        if not port_open(self.port):
            return False
        return run_coroutine(lambda: _broker_answers(self.bootstrap_servers))

    def stop(self, *, grace: float = STOP_GRACE) -> None:
        """Controlled shutdown (SIGTERM), SIGKILL after `grace` s (0: a crash). Data is kept."""
        if self._proc is not None:
            stop_process(self._proc, grace=grace)
            self._proc = None

    def close(self) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> KafkaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        log_dir = self.data_dir / "kraft"
        props.write_text(server_properties(self.port, self.controller_port, log_dir))
        (self.data_dir / "log4j2.xml").write_text(log4j2_config(self.log_files[1]))
        return props

    def _format(self, lib: Path, props: Path) -> None:
        if (self.data_dir / "kraft" / "meta.properties").is_file():
            return
        cmd = [_java(), "-cp", f"{lib}/*", "kafka.tools.StorageTool", "format",
               "-t", cluster_id(), "-c", str(props), "--standalone", "-g"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServerError(f"Kafka storage format failed:\n{done.stdout}{done.stderr}")
