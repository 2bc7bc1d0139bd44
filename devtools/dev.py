"""`make dev`: Kafka, the store and every service on their default ports until Ctrl-C.

Data lives in `.data/` (git-ignored) and survives restarts; `make clean` removes it.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from devtools.kafka import KafkaServer
from devtools.services import DEV_PORTS, ServiceProcess, infra_env
from devtools.store import SecantusServer
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
KAFKA_PORT, STORE_PORT = 9092, 27017


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
    services = [ServiceProcess(name, env, DATA / "logs", port=port)
                for name, port in DEV_PORTS.items()]
    for service in services:
        service.start()
        stack.callback(service.stop)
    for service in services:
        service.wait_ready(timeout=120)
    return services


def _supervise(services: list[ServiceProcess]) -> None:
    while True:
        for service in services:
            if service.proc is not None and service.proc.poll() is not None:
                raise SystemExit(f"{service.name} exited; see {service.log_path}")
        time.sleep(1)


def main() -> int:
    for port, what in [(KAFKA_PORT, "Kafka"), (STORE_PORT, "store"), *(
            (port, name) for name, port in DEV_PORTS.items())]:
        _require_free(port, what)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with ExitStack() as stack:
            kafka = stack.enter_context(KafkaServer(DATA / "kafka", port=KAFKA_PORT))
            store = stack.enter_context(SecantusServer(DATA / "store", port=STORE_PORT))
            env = infra_env(kafka.bootstrap_servers, store.url, HANOUT_ENV="development",
                            KAFKA_TOPIC_PARTITIONS="12")
            services = _start_services(stack, env)
            _announce(kafka, store, services)
            _supervise(services)
    except Stop as stop:
        print(f"\n{stop}: everything stopped.")
    return 0


def _announce(kafka: KafkaServer, store: SecantusServer, services: list[ServiceProcess]) -> None:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="agent-1", workspace_id="demo",
                           name="Demo agent", roles=["admin"])
    lines = [f"Kafka      {kafka.bootstrap_servers}", f"Store      {store.url}"]
    lines += [f"{s.name:<10} {s.url}  (docs {s.url}/docs)" for s in services]
    lines += [f"Logs       {DATA / 'logs'}", f"Dev token  {token}", "Ctrl-C stops everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
