"""`make dev`: Kafka, the store, every service, the simulator and the gateway, the demo seeded.

Data lives in `.data/` (git-ignored) and survives restarts; `make clean` removes it.
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from devtools.kafka import KafkaServer
from devtools.procs import ServerError, ServerProcess, start_process, stop_process, wait_until
from devtools.services import DEV_PORTS, HttpProcess, ServiceProcess, infra_env, uvicorn_command
from devtools.store import DEV, SecantusServer
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
LOGS = DATA / "logs"
KAFKA_PORT, STORE_PORT = 9092, 27017
GATEWAY_PORT, SIMULATOR_PORT = 8080, 8090
GATEWAY_URL, SIMULATOR_URL = (
    f"http://127.0.0.1:{GATEWAY_PORT}",
    f"http://127.0.0.1:{SIMULATOR_PORT}",
)
PARTITIONS = 12
START_TIMEOUT, SEED_TIMEOUT = 120.0, 300.0


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


def _start_all(
    stack: ExitStack, servers: Sequence[ServerProcess], timeout: float | None = None
) -> None:
    """Launch side by side, then wait for each: the slowest start bounds the wait."""
    for server in servers:
        stack.callback(server.close)
        server.launch()
    for server in servers:
        server.wait_ready(timeout)


def _has_simulator() -> bool:
    return importlib.util.find_spec("simulator") is not None


def _front() -> list[HttpProcess]:
    """The Meta simulator (customers' webhooks go through the gateway), then the gateway."""
    front = []
    if _has_simulator():
        sim_env = {"SIMULATOR_PORT": str(SIMULATOR_PORT),
                   "SIMULATOR_WEBHOOK_URL": f"{GATEWAY_URL}/webhooks/whatsapp"}  # fmt: skip
        front.append(HttpProcess("simulator", [sys.executable, "-m", "simulator"], sim_env, LOGS,
                                 port=SIMULATOR_PORT))  # fmt: skip
    gateway_env = {"GATEWAY_SIMULATOR_URL": SIMULATOR_URL if front else ""}
    gateway = uvicorn_command("devtools.gateway:create_app", GATEWAY_PORT)
    front.append(HttpProcess("gateway", gateway, gateway_env, LOGS, port=GATEWAY_PORT))
    return front


def _check_running(servers: Sequence[ServerProcess]) -> bool:
    for server in servers:
        if not server.running:
            raise SystemExit(f"{server.what} exited; see {server.log_file}")
    return True


def _seed(servers: Sequence[ServerProcess]) -> str:
    """Run the demo seed to its end (it waits until the inbox shows what it wrote); its summary."""
    log = LOGS / "seed.log"
    cmd = [sys.executable, "-m", "devtools.seed", "--gateway", GATEWAY_URL,
           "--simulator", SIMULATOR_URL if _has_simulator() else ""]  # fmt: skip
    seeding = start_process(cmd, log)
    try:
        wait_until(
            lambda: _check_running(servers) and seeding.poll() is not None,
            what="the demo seed",
            timeout=SEED_TIMEOUT,
            logs=[log],
        )
    finally:
        stop_process(seeding, grace=1)
    if seeding.returncode != 0:
        return f"failed (exit {seeding.returncode}): see {log}"
    lines = [line for line in log.read_text().splitlines() if line.startswith("seeded:")]
    return lines[-1] if lines else f"done: see {log}"


def _supervise(servers: Sequence[ServerProcess]) -> None:
    while _check_running(servers):
        time.sleep(1)


def main() -> int:
    for port, what in [
        (KAFKA_PORT, "Kafka"),
        (KAFKA_PORT + 1, "Kafka's controller"),
        (STORE_PORT, "store"),
        (GATEWAY_PORT, "gateway"),
        (SIMULATOR_PORT, "Meta simulator"),
        *((port, name) for name, port in DEV_PORTS.items()),
    ]:
        _require_free(port, what)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            kafka = KafkaServer(DATA / "kafka", port=KAFKA_PORT)
            store = SecantusServer(DATA / "store", port=STORE_PORT, settings=DEV)
            _start_all(stack, [kafka, store])
            # The services' consumers start on a broker that coordinates groups and on topics
            # with leaders: aiokafka logs each failed lookup before then at ERROR.
            kafka.create_topics(PARTITIONS)
            _progress(started, "Kafka and the store are ready; starting the services")
            env = infra_env(
                kafka.bootstrap_servers,
                store.url,
                HANOUT_ENV="development",
                KAFKA_TOPIC_PARTITIONS=str(PARTITIONS),
                INGEST_GRAPH_API_URL=SIMULATOR_URL,
                INBOX_INGEST_URL=f"http://127.0.0.1:{DEV_PORTS['ingest']}",  # library uploads
            )
            services = [ServiceProcess(name, env, LOGS, port) for name, port in DEV_PORTS.items()]
            front = _front()
            _start_all(stack, [*services, *front], timeout=START_TIMEOUT)
            _progress(started, f"the services are ready; seeding the demo ({LOGS / 'seed.log'})")
            seeded = _seed([*services, *front])
            _announce(kafka, store, services, seeded, time.monotonic() - started)
            _supervise([kafka, store, *services, *front])
    except Stop as stop:
        print(f"\n{stop}: everything stopped.")
    except ServerError as exc:
        print(f"{exc}\nEverything stopped.", file=sys.stderr)
        return 1
    return 0


def _progress(started: float, what: str) -> None:
    print(f"{time.monotonic() - started:4.0f} s  {what}", flush=True)


def _announce(
    kafka: KafkaServer,
    store: SecantusServer,
    services: list[ServiceProcess],
    seeded: str,
    seconds: float,
) -> None:
    token = mint_dev_token(
        DEV_JWT_SECRET, agent_id="agent-1", workspace_id="demo", name="Demo agent", roles=["admin"]
    )
    lines = [f"Kafka      {kafka.bootstrap_servers}", f"Store      {store.url}"]
    lines += [f"{s.name:<10} {s.url}  (docs {s.url}/docs)" for s in services]
    if _has_simulator():
        lines += [f"Simulator  {SIMULATOR_URL}  (docs {SIMULATOR_URL}/docs)"]
    lines += [f"Demo       {seeded}", f"Logs       {LOGS}", f"Dev token  {token}"]
    lines += [f"Web client {GATEWAY_URL}  (sign in as a seeded agent)"]
    lines += [f"Ready in {seconds:.0f} s. Ctrl-C stops everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
