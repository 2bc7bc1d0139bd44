"""What `make dev` runs, on the shared broker and store: the four services, the Meta simulator and
the gateway as separate processes, with this run's own databases, workspace and numbers."""

from __future__ import annotations

import os
import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from devtools.procs import free_port, run_coroutine
from devtools.seed_data import Roster, WorkspaceSpec, demo_workspace
from devtools.services import HttpProcess, ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.platform.kafka import ensure_topics
from inbox.kafka import durable_groups


def _groups(run: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """This run's own consumer groups (the services' `*_CONSUMER_GROUP` settings), started at
    their topics' end: a run neither shares partitions with another stack on the shared broker nor
    replays the history other tests left there."""
    names = {name: f"web-{run}-{name}" for name in ("inbox", "customers", "orders")}
    groups = {
        **durable_groups(names["inbox"]),
        f"{names['customers']}.inbound": [topics.WHATSAPP_INBOUND],
        f"{names['customers']}.orders": [topics.ORDERS_EVENTS],
        names["orders"]: [topics.CUSTOMERS_EVENTS],
        f"{names['orders']}.customers": [topics.CUSTOMERS_EVENTS],
        f"ingest-outbound-web-{run}": [topics.WHATSAPP_OUTBOUND],
    }
    env = {f"{name.upper()}_CONSUMER_GROUP": group for name, group in names.items()}
    return {**env, "INGEST_OUTBOUND_GROUP": f"ingest-outbound-web-{run}"}, groups


@dataclass(frozen=True)
class WebStack:
    gateway_url: str
    simulator_url: str
    workspace: WorkspaceSpec
    log_dir: Path


async def _skip_history(bootstrap: str, groups: dict[str, list[str]]) -> None:
    wanted = sorted({topic for names in groups.values() for topic in names})
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=wanted)
    for group, names in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await consumer.start()
        try:
            await consumer.topics()
            parts = [
                TopicPartition(topic, p)
                for topic in names
                for p in consumer.partitions_for_topic(topic) or {0}
            ]
            consumer.assign(parts)
            await consumer.commit(await consumer.end_offsets(parts))
        except KafkaError:
            pass  # the group is live in another stack on this broker: it keeps its own position
        finally:
            await consumer.stop()


def _workspace(run: str) -> WorkspaceSpec:
    numbers = tuple(str(random.randrange(10**14, 10**15)) for _ in range(2))
    return demo_workspace(f"web-{run}", (numbers[0], numbers[1]))


def _start(stack: ExitStack, server: HttpProcess) -> str:
    stack.callback(server.stop)
    server.start()
    return server.url


def _start_simulator(stack: ExitStack, log_dir: Path, gateway_port: int) -> str:
    port = free_port()
    env = {"SIMULATOR_PORT": str(port), "SIMULATOR_STATUS_DELAY_S": "0.3",
           "SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{gateway_port}/webhooks/whatsapp",
           "SIMULATOR_RETRY_INITIAL_S": "0.2", "SIMULATOR_RETRY_MAX_S": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "simulator"]
    return _start(stack, HttpProcess("simulator", cmd, env, log_dir, port=port))


def _start_gateway(stack: ExitStack, log_dir: Path, port: int, env: dict[str, str]) -> str:
    # With its access log: the journeys' report of trouble reads the refused calls from it.
    cmd = [sys.executable, "-m", "uvicorn", "devtools.gateway:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return _start(stack, HttpProcess("gateway", cmd, env, log_dir, port=port))


@contextmanager
def web_stack(kafka: str, mongo: str, log_dir: Path) -> Iterator[WebStack]:
    run = uuid.uuid4().hex[:8]
    workspace = _workspace(run)
    group_env, groups = _groups(run)
    run_coroutine(lambda: _skip_history(kafka, groups))
    gateway_port = free_port()
    names = ("ingest", "inbox", "customers", "orders")
    ports = {name: free_port() for name in names}
    with ExitStack() as stack:
        simulator = _start_simulator(stack, log_dir, gateway_port)
        env = infra_env(
            kafka, mongo, HANOUT_ENV="test", INGEST_GRAPH_API_URL=simulator,
            INGEST_SEND_BACKOFF_S="0.05", **group_env,
            INBOX_INGEST_URL=f"http://127.0.0.1:{ports['ingest']}",  # library media uploads
            **{f"{name.upper()}_MONGODB_DATABASE": f"web_{name}_{run}" for name in names},
        )  # fmt: skip
        services = [ServiceProcess(name, env, log_dir, port=ports[name]) for name in names]
        for service in services:
            service.start()
            stack.callback(service.stop)
        for service in services:
            service.wait_ready(timeout=120)
        gateway_env = {f"GATEWAY_{s.name.upper()}_URL": s.url for s in services}
        gateway_env["GATEWAY_SIMULATOR_URL"] = simulator
        gateway_env["GATEWAY_ROSTER"] = Roster(workspaces=[workspace]).model_dump_json()
        gateway = _start_gateway(stack, log_dir, gateway_port, gateway_env)
        yield WebStack(gateway, simulator, workspace, log_dir)


def node_env(stack: WebStack, screenshots: Path) -> dict[str, str]:
    """What the browser journeys (web/e2e) need to know about the stack."""
    return {
        **os.environ,
        "HANOUT_BASE_URL": stack.gateway_url,
        "HANOUT_SIMULATOR_URL": stack.simulator_url,
        "HANOUT_WORKSPACE": stack.workspace.model_dump_json(),
        "HANOUT_SCREENSHOTS": str(screenshots),
    }
