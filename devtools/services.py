"""The four services as separate uvicorn processes, for `make dev` and the e2e tests."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devtools.procs import Process, free_port, start_process, stop_process, wait_until

DEV_PORTS = {"ingest": 8001, "inbox": 8002, "customers": 8003, "orders": 8004}


def _answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class ServiceProcess:
    """One service run by uvicorn with `--factory`, its output in `<log_dir>/<name>.log`."""

    name: str
    env: Mapping[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{self.name}.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]
        self.proc = start_process(cmd, self.log_path, env={**os.environ, **self.env})

    def wait_ready(self, timeout: float = 60.0) -> float:
        return wait_until(
            lambda: _answers_ready(self.url),
            what=f"service {self.name}",
            timeout=timeout,
            proc=self.proc,
            logs=[self.log_path],
        )

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=grace)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown, no final commit."""
        self.stop(grace=0.0)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart(self, timeout: float = 60.0) -> float:
        """Start again on the same port and env (after `kill`); the seconds until it is ready."""
        self.stop()
        self.start()
        return self.wait_ready(timeout=timeout)


def infra_env(kafka_bootstrap_servers: str, mongodb_url: str, **extra: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "MONGODB_URL": mongodb_url,
        "KAFKA_TOPIC_PARTITIONS": os.environ.get("KAFKA_TOPIC_PARTITIONS", "1"),
        **extra,
    }
