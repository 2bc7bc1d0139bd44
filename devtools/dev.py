"""`make dev`: Kafka, the store and every service on their default ports until Ctrl-C.

Data lives in `.data/` (git-ignored) and survives restarts; `make clean` removes it.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from devtools.kafka import KafkaServer
from devtools.procs import Process, start_process, stop_process, wait_until
from devtools.services import DEV_PORTS, ServiceProcess, infra_env
from devtools.store import SecantusServer
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
KAFKA_PORT, STORE_PORT = 9092, 27017
GATEWAY_PORT, SIMULATOR_PORT = 8080, 8090
GATEWAY_URL, SIMULATOR_URL = (
    f"http://127.0.0.1:{GATEWAY_PORT}",
    f"http://127.0.0.1:{SIMULATOR_PORT}",
)


class Stop(Exception):
    """Raised by the signal handler to unwind and stop everything."""


def _on_signal(signum: int, _: FrameType | None) -> None:
    # A second Ctrl-C must not interrupt the orderly shutdown of the first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def _require_free(port: int, what: str) -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} ({what}) is already in use: is another stack running?")


def _start_services(stack: ExitStack, env: dict[str, str]) -> list[ServiceProcess]:
    services = [
        ServiceProcess(name, env, DATA / "logs", port=port) for name, port in DEV_PORTS.items()
    ]
    for service in services:
        service.start()
        stack.callback(service.stop)
    for service in services:
        service.wait_ready(timeout=120)
    return services


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start(stack: ExitStack, name: str, cmd: list[str], env: dict[str, str], url: str) -> Process:
    log = DATA / "logs" / f"{name}.log"
    proc = start_process(cmd, log, env={**os.environ, **env})
    stack.callback(stop_process, proc, grace=5)
    wait_until(lambda: _healthy(url), what=name, timeout=60, proc=proc, logs=[log])
    return proc


def _has_simulator() -> bool:
    return importlib.util.find_spec("simulator") is not None


def _start_front(stack: ExitStack) -> dict[str, Process]:
    """The Meta simulator (customers' webhooks go through the gateway), the gateway, the seed."""
    procs: dict[str, Process] = {}
    if _has_simulator():
        sim_env = {"SIMULATOR_PORT": str(SIMULATOR_PORT),
                   "SIMULATOR_WEBHOOK_URL": f"{GATEWAY_URL}/webhooks/whatsapp"}  # fmt: skip
        procs["simulator"] = _start(stack, "simulator", [sys.executable, "-m", "simulator"],
                                    sim_env, SIMULATOR_URL)  # fmt: skip
    gateway = [sys.executable, "-m", "uvicorn", "devtools.gateway:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(GATEWAY_PORT), "--no-access-log"]  # fmt: skip
    gateway_env = {"GATEWAY_SIMULATOR_URL": SIMULATOR_URL if procs else ""}
    procs["gateway"] = _start(stack, "gateway", gateway, gateway_env, GATEWAY_URL)
    seed = [sys.executable, "-m", "devtools.seed", "--gateway", GATEWAY_URL,
            "--simulator", SIMULATOR_URL if "simulator" in procs else ""]  # fmt: skip
    seeding = start_process(seed, DATA / "logs" / "seed.log", env=dict(os.environ))
    stack.callback(stop_process, seeding, grace=1)
    return procs


def _supervise(services: list[ServiceProcess], front: dict[str, Process]) -> None:
    while True:
        for service in services:
            if service.proc is not None and service.proc.poll() is not None:
                raise SystemExit(f"{service.name} exited; see {service.log_path}")
        for name, proc in front.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited; see {DATA / 'logs' / name}.log")
        time.sleep(1)


def main() -> int:
    for port, what in [
        (KAFKA_PORT, "Kafka"),
        (STORE_PORT, "store"),
        (GATEWAY_PORT, "gateway"),
        (SIMULATOR_PORT, "Meta simulator"),
        *((port, name) for name, port in DEV_PORTS.items()),
    ]:
        _require_free(port, what)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with ExitStack() as stack:
            kafka = stack.enter_context(KafkaServer(DATA / "kafka", port=KAFKA_PORT))
            store = stack.enter_context(SecantusServer(DATA / "store", port=STORE_PORT))
            env = infra_env(
                kafka.bootstrap_servers,
                store.url,
                HANOUT_ENV="development",
                KAFKA_TOPIC_PARTITIONS="12",
                INGEST_GRAPH_API_URL=SIMULATOR_URL,
                INBOX_INGEST_URL=f"http://127.0.0.1:{DEV_PORTS['ingest']}",  # library uploads
            )
            services = _start_services(stack, env)
            front = _start_front(stack)
            _announce(kafka, store, services)
            _supervise(services, front)
    except Stop as stop:
        print(f"\n{stop}: everything stopped.")
    return 0


def _announce(kafka: KafkaServer, store: SecantusServer, services: list[ServiceProcess]) -> None:
    token = mint_dev_token(
        DEV_JWT_SECRET, agent_id="agent-1", workspace_id="demo", name="Demo agent", roles=["admin"]
    )
    lines = [f"Kafka      {kafka.bootstrap_servers}", f"Store      {store.url}"]
    lines += [f"{s.name:<10} {s.url}  (docs {s.url}/docs)" for s in services]
    lines += [f"Web client {GATEWAY_URL}  (seeding the demo: {DATA / 'logs' / 'seed.log'})"]
    if _has_simulator():
        lines += [f"Simulator  {SIMULATOR_URL}  (docs {SIMULATOR_URL}/docs)"]
    lines += [f"Logs       {DATA / 'logs'}", f"Dev token  {token}", "Ctrl-C stops everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
