"""Every service and the Meta simulator as separate processes on the shared broker and store, with
this run's own databases, consumer groups and Meta app secret."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from devtools.groups import commit_at_end
from devtools.procs import free_port, run_coroutine
from devtools.services import HttpProcess, ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.kafka import ensure_topics
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.kafka import durable_groups

SERVICES = ("ingest", "inbox", "customers", "orders")


@dataclass(frozen=True)
class Stack:
    run: str
    urls: dict[str, str]
    simulator_url: str
    meta_app_id: str
    app_secret: str
    log_dir: Path


def token(workspace_id: str, *, agent_id: str = "agent-1", admin: bool = False) -> str:
    roles = ["admin"] if admin else ["agent"]
    return mint_dev_token(
        DEV_JWT_SECRET, agent_id=agent_id, workspace_id=workspace_id, name=agent_id, roles=roles
    )


def own_groups(run: str) -> dict[str, list[str]]:
    """This run's consumer groups, so no other process on the broker shares their partitions."""
    customers = f"e2e-{run}-customers"
    return {
        **durable_groups(f"e2e-{run}-inbox"),
        f"{customers}.inbound": [topics.WHATSAPP_INBOUND],
        f"{customers}.orders": [topics.ORDERS_EVENTS],
        f"e2e-{run}-orders": [topics.CUSTOMERS_EVENTS],
        f"e2e-{run}-orders.customers": [topics.CUSTOMERS_EVENTS],
        f"e2e-{run}-ingest-outbound": [topics.WHATSAPP_OUTBOUND],
    }


async def skip_history(bootstrap: str, run: str) -> None:
    """Start every group at its topics' end: the shared broker holds other runs' messages."""
    partitions = int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "1"))
    await ensure_topics(bootstrap, partitions=partitions, replication=1)
    for group, names in own_groups(run).items():
        if not await commit_at_end(bootstrap, group, names):
            raise RuntimeError(f"group {group} of this run is already in use")


def _start_simulator(stack: ExitStack, log_dir: Path, webhook_url: str, secret: str) -> str:
    port = free_port()
    env = {"SIMULATOR_PORT": str(port), "SIMULATOR_WEBHOOK_URL": webhook_url,
           "SIMULATOR_APP_SECRET": secret, "SIMULATOR_STATUS_DELAY_S": "0.1",
           "SIMULATOR_RETRY_INITIAL_S": "0.2", "SIMULATOR_RETRY_MAX_S": "1"}  # fmt: skip
    simulator = HttpProcess("simulator", [sys.executable, "-m", "simulator"], env, log_dir,
                            port=port)  # fmt: skip
    stack.callback(simulator.stop)
    simulator.start()
    return simulator.url


def _service_env(kafka: str, mongo: str, run: str, simulator: str, apps: Any) -> dict[str, str]:
    return infra_env(
        kafka,
        mongo,
        HANOUT_ENV="test",
        INGEST_META_APPS=json.dumps(apps),
        INGEST_GRAPH_API_URL=simulator,
        INGEST_OUTBOUND_GROUP=f"e2e-{run}-ingest-outbound",
        INGEST_SEND_BACKOFF_S="0.05",
        INBOX_CONSUMER_GROUP=f"e2e-{run}-inbox",
        CUSTOMERS_CONSUMER_GROUP=f"e2e-{run}-customers",
        ORDERS_CONSUMER_GROUP=f"e2e-{run}-orders",
        **{f"{name.upper()}_MONGODB_DATABASE": f"e2e_{run}_{name}" for name in SERVICES},
    )


def _drop_databases(mongo: str, run: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo, serverSelectionTimeoutMS=5000)
    try:
        for name in SERVICES:
            client.drop_database(f"e2e_{run}_{name}")
    finally:
        client.close()


@contextmanager
def running_processes(
    kafka: str, mongo: str, log_dir: Path
) -> Iterator[tuple[Stack, dict[str, ServiceProcess]]]:
    """The simulator and the four services, ready, with their processes (a fault test kills and
    restarts them); everything stopped and dropped afterwards."""
    run, secret = uuid.uuid4().hex[:8], secrets.token_hex(16)
    app_id = f"e2e-app-{run}"
    run_coroutine(lambda: skip_history(kafka, run))
    apps = {app_id: {"app_secrets": [secret], "verify_token": secrets.token_hex(8)}}
    services = {name: ServiceProcess(name, {}, log_dir) for name in SERVICES}
    webhook = f"{services['ingest'].url}/webhooks/whatsapp"
    with ExitStack() as stack:
        stack.callback(_drop_databases, mongo, run)
        simulator = _start_simulator(stack, log_dir, webhook, secret)
        env = _service_env(kafka, mongo, run, simulator, apps)
        for service in services.values():
            service.env = env
            service.start()
            stack.callback(service.stop)
        started = time.monotonic()
        for service in services.values():
            service.wait_ready(timeout=max(10.0, 180.0 - (time.monotonic() - started)))
        urls = {name: service.url for name, service in services.items()}
        yield Stack(run, urls, simulator, app_id, secret, log_dir), services


@contextmanager
def running_services(kafka: str, mongo: str, log_dir: Path) -> Iterator[Stack]:
    """The simulator and the four services, ready; everything stopped and dropped afterwards."""
    with running_processes(kafka, mongo, log_dir) as (stack, _):
        yield stack
