"""What the campaign and batch benchmarks play: Meta (signed webhooks: customer messages and
statuses), an agent (the inbox's list, sends and live stream) and the customers API, each through
the services' public HTTP APIs; and the processes under test with the Meta simulator as Graph."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.inbox_workloads import APP, SECRET, headers, percentiles, skip_history
from bench.ingest_load import Pool, signed_request
from devtools.groups import start_groups_at_end
from devtools.procs import free_port
from devtools.services import HttpProcess, ServiceProcess, infra_env
from hanout_shared.contracts import topics

APPS = json.dumps({APP: {"app_secrets": [SECRET], "verify_token": "bench"}})
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4}
PAGE = 200  # the conversation list's largest page


def new_number() -> str:
    """A business number of its own per run: its workspace sees only this run's conversations."""
    return f"19{random.randrange(10**13):013d}"


def envelope(pnid: str, value: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212522000111", "phone_number_id": pnid},
    } | value
    entry = {"id": "104857361029384", "changes": [{"value": value, "field": "messages"}]}
    body = {"object": "whatsapp_business_account", "entry": [entry]}
    return json.dumps(body, separators=(",", ":")).encode()


def customer_text(pnid: str, wa_id: str, text: str, stamp: int) -> tuple[bytes, str]:
    """A customer's text webhook and its wamid."""
    wamid = f"wamid.bench{uuid.uuid4().hex}"
    message = {"from": wa_id, "id": wamid, "timestamp": str(stamp), "type": "text",
               "text": {"body": text}}  # fmt: skip
    contact = {"profile": {"name": f"Client {wa_id[-5:]}"}, "wa_id": wa_id}
    return envelope(pnid, {"contacts": [contact], "messages": [message]}), wamid


def status(pnid: str, wamid: str, state: str, wa_id: str, stamp: int) -> bytes:
    item = {"id": wamid, "status": state, "timestamp": str(stamp), "recipient_id": wa_id}
    return envelope(pnid, {"statuses": [item]})


def contact(run: str, i: int) -> str:
    """A distinct Moroccan mobile per (run, contact)."""
    return f"2126{abs(hash(run)) % 100:02d}{i:06d}"


@dataclass
class Services:
    ingest: ServiceProcess
    inbox: ServiceProcess
    customers: ServiceProcess | None = None
    simulator: HttpProcess | None = None

    def port(self, name: str) -> int:
        service = getattr(self, name)
        return int(service.port)


@contextmanager
def services(
    kafka: str, mongo: str, logs: Path, database: str, *, campaign: bool
) -> Iterator[Services]:
    """Ingest and the inbox (with the customers service and the Meta simulator as Graph for a
    campaign), each its own process, their consumer groups new and started at the end."""
    common = {"HANOUT_ENV": "test", "LOG_LEVEL": "WARNING"}
    simulator = None
    graph: dict[str, str] = {}
    if campaign:
        port = free_port()
        sim_env = {"SIMULATOR_PORT": str(port), "SIMULATOR_AUTO_STATUSES": "[]",
                   "SIMULATOR_APP_SECRET": SECRET, "SIMULATOR_LOG_LEVEL": "WARNING"}  # fmt: skip
        simulator = HttpProcess("simulator", [sys.executable, "-m", "simulator"], sim_env, logs,
                                port=port)  # fmt: skip
        graph = {"INGEST_GRAPH_API_URL": simulator.url}
    found = Services(
        ingest=ServiceProcess("ingest", infra_env(kafka, mongo, **common, INGEST_META_APPS=APPS,
                              INGEST_MONGODB_DATABASE=f"{database}_ingest", **graph), logs),
        inbox=ServiceProcess("inbox", infra_env(kafka, mongo, **common,
                             INBOX_MONGODB_DATABASE=database, INBOX_CONSUMER_GROUP=database), logs),
    )  # fmt: skip
    if campaign:
        found.customers = ServiceProcess("customers", infra_env(kafka, mongo, **common,
            CUSTOMERS_MONGODB_DATABASE=f"{database}_customers",
            CUSTOMERS_CONSUMER_GROUP=database), logs)  # fmt: skip
        found.simulator = simulator
    asyncio.run(skip_history(kafka, database))
    asyncio.run(start_groups_at_end(kafka, customer_groups(database)))
    processes = [p for p in (simulator, found.ingest, found.inbox, found.customers) if p]
    with ExitStack() as stack:
        stack.callback(lambda: asyncio.run(drop(mongo, database, *_suffixed(database))))
        for process in processes:
            process.launch()
            stack.callback(process.stop)
        for process in processes:
            process.wait_ready(timeout=120)
        yield found


def _suffixed(database: str) -> list[str]:
    return [f"{database}_ingest", f"{database}_customers"]


async def drop(url: str, *databases: str) -> None:
    """The run's databases: the store is shared by every benchmark of a report."""
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(url)
    try:
        for database in databases:
            await mongo.drop_database(database)
    finally:
        await mongo.close()


def customer_groups(group: str) -> dict[str, list[str]]:
    inbound, orders = [topics.WHATSAPP_INBOUND], [topics.ORDERS_EVENTS]
    return {f"{group}.inbound": inbound, f"{group}.orders": orders}


def register(ingest: str, workspace: str, pnid: str) -> None:
    channel = {"phone_number_id": pnid, "meta_app_id": APP, "access_token": "EAAG-bench"}
    httpx.post(
        f"{ingest}/channels", json=channel, headers=headers(workspace, "admin")
    ).raise_for_status()


async def post_all(port: int, bodies: list[bytes], connections: int) -> dict[str, Any]:
    """Every webhook as fast as `connections` keep-alive connections take them; when each was
    acknowledged, and how many were not answered 200."""
    pool, acked, errors = Pool(port, connections), [0.0] * len(bodies), 0
    queue = iter(range(len(bodies)))

    async def worker() -> None:
        nonlocal errors
        for i in queue:
            errors += await pool.send(signed_request(bodies[i], port)) != 200
            acked[i] = time.monotonic()

    try:
        await asyncio.gather(*[worker() for _ in range(connections)])
    finally:
        await pool.close()
    return {"acked": acked, "errors": errors}


async def conversations(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every conversation of the workspace, page after page."""
    rows, cursor = list[dict[str, Any]](), None
    while True:
        params: dict[str, Any] = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/conversations", params=params)).raise_for_status().json()
        rows += page["items"]
        if not (cursor := page["next_cursor"]):
            return rows


@dataclass
class Stream:
    """One agent's live stream of the workspace: when each message reached each status, and
    when each customer message arrived (the inbox publishes an event once it is stored)."""

    url: str
    workspace: str
    statuses: dict[str, dict[str, float]] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    wamids: dict[str, str] = field(default_factory=dict)  # message id -> wamid
    _task: asyncio.Task[None] | None = None
    _open: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Stream:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._open.wait(), 60)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        async with (
            httpx.AsyncClient(
                base_url=self.url, headers=headers(self.workspace), timeout=None
            ) as client,
            client.stream("GET", "/stream") as response,
        ):
            response.raise_for_status()
            self._open.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    self._note(json.loads(line[5:]), time.monotonic())

    def _note(self, event: dict[str, Any], now: float) -> None:
        message = (event.get("data") or {}).get("message")
        if not isinstance(message, dict) or not message.get("wamid"):
            return
        wamid = message["wamid"]
        if event.get("type") == "inbox.message.received":
            self.received.setdefault(wamid, now)
            return
        self.wamids.setdefault(message["message_id"], wamid)
        if state := message.get("status"):
            self.statuses.setdefault(wamid, {}).setdefault(state, now)

    def status_seen(self, wamid: str, state: str) -> float | None:
        """When the message was first shown at `state` or beyond (a later status may overtake
        an earlier one, which then changes nothing)."""
        rank, shown = STATUS_RANK.get(state, 0), self.statuses.get(wamid, {})
        times = [t for s, t in shown.items() if STATUS_RANK.get(s, 0) >= rank]
        return min(times, default=None)


def lags(pairs: list[tuple[float, float | None]]) -> dict[str, float]:
    """(acknowledged, visible) pairs: percentiles of what became visible, and its share."""
    seen = [max(0.0, visible - acked) for acked, visible in pairs if visible is not None]
    return percentiles(seen) | {"visible": len(seen) / max(1, len(pairs))}
