"""The four services (and any HTTP server) as separate processes, for `make dev` and the tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtools.procs import ServerProcess, free_port, http_ready

DEV_PORTS = {"ingest": 8001, "inbox": 8002, "customers": 8003, "orders": 8004}


def uvicorn_command(app_factory: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app_factory, "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip


class HttpProcess(ServerProcess):
    """`cmd` serving HTTP on `port`, ready when GET `ready_path` answers 200, its output in
    `<log_dir>/<name>.log`. `env` (over this process's environment) is read at each start."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        *,
        port: int,
        ready_path: str = "/healthz",
    ) -> None:
        self.name, self.cmd, self.env, self.port = name, list(cmd), env, port
        self.ready_path = ready_path
        super().__init__(name, log_dir / f"{name}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_file

    def command(self) -> list[str]:
        return self.cmd

    def ready(self) -> bool:
        return http_ready(f"{self.url}{self.ready_path}")

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.env}


class ServiceProcess(HttpProcess):
    """One service run by uvicorn with `--factory`, ready when it answers `/readyz`."""

    def __init__(
        self, name: str, env: Mapping[str, str], log_dir: Path, port: int | None = None
    ) -> None:
        port = port or free_port()
        command = uvicorn_command(f"{name}.app:create_app", port)
        super().__init__(name, command, env, log_dir, port=port, ready_path="/readyz")
        self.what = f"service {name}"

    def start(self, timeout: float | None = None) -> float:
        """Only launch, unlike other servers (0 s): the callers start every service first, then
        `wait_ready()` each, so that they start side by side."""
        self.launch()
        return 0.0


def infra_env(kafka_bootstrap_servers: str, mongodb_url: str, **extra: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "MONGODB_URL": mongodb_url,
        "KAFKA_TOPIC_PARTITIONS": os.environ.get("KAFKA_TOPIC_PARTITIONS", "1"),
        **extra,
    }
