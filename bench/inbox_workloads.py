"""The inbox benchmark's workloads: signed webhooks at a fixed rate watched through the list,
seeded conversations and the list queries, and the floors they are compared with."""

import asyncio
import hashlib
import hmac
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from devtools.groups import start_groups_at_end
from devtools.services import ServiceProcess, infra_env
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.kafka import ensure_topics
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.conversations.store.queries import LIST_FIELDS
from inbox.kafka import durable_groups

SECRET, APP, PNID = "bench-app-secret", "bench-app", "110928374650192"
AGENT = "bench"
QUERIES = {
    "all": {},
    "unread": {"filter": "unread"},
    "mine": {"filter": "mine"},
    "no_reply": {"filter": "no_reply"},
    "number": {"phone_number_id": PNID},
    "number_unread": {"phone_number_id": PNID, "filter": "unread"},
    "name": {"q": "client 4242"},  # a few dozen candidates: answered by the search index
    "name_common": {"q": "client"},  # every row: too common to narrow, read by list windows
    "digits": {"q": "0600000042"},
}


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [float("nan")]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": statistics.median(ordered) * 1e3, "p99_ms": p99 * 1e3, "n": len(values)}


def webhook(tag: str, i: int) -> tuple[bytes, str]:
    """A Meta-shaped text message from a new contact; its text marks it in the list."""
    wa_id, text = f"2127{abs(hash(tag)) % 10**4:04d}{i:05d}", f"bench {tag} {i}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212522000111", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": f"Client {i}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.bench{uuid.uuid4().hex}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "104857361029384", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode(), text


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}


async def skip_history(bootstrap: str, group: str, wait_s: float = 120.0) -> None:
    """The shared broker holds other runs' messages: the inbox's groups start at the end."""
    await start_groups_at_end(bootstrap, durable_groups(group), wait_s=wait_s)


def start(
    kafka: str, mongo: str, logs: Path, database: str, *, with_ingest: bool = True
) -> list[ServiceProcess]:
    apps = json.dumps({APP: {"app_secrets": [SECRET], "verify_token": "bench"}})
    ingest = ServiceProcess(
        "ingest",
        infra_env(
            kafka,
            mongo,
            HANOUT_ENV="test",
            LOG_LEVEL="WARNING",
            INGEST_META_APPS=apps,
            INGEST_MONGODB_DATABASE=f"bench_ingest_{uuid.uuid4().hex[:8]}",
        ),
        logs,
    )
    inbox = ServiceProcess(
        "inbox",
        infra_env(
            kafka,
            mongo,
            HANOUT_ENV="test",
            LOG_LEVEL="WARNING",
            INBOX_MONGODB_DATABASE=database,
            INBOX_CONSUMER_GROUP=database,
        ),
        logs,
    )
    services = [ingest, inbox] if with_ingest else [inbox]
    for service in services:
        service.start()
    for service in services:
        service.wait_ready(timeout=120)
    return services


def headers(workspace: str, role: str = "agent") -> dict[str, str]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="bench", workspace_id=workspace, roles=[role])
    return {"Authorization": f"Bearer {token}"}


async def open_loop(
    ingest: str, inbox: str, workspace: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Webhooks on schedule whatever the answers; a poller notes when each row is listed."""
    tag, count = uuid.uuid4().hex[:6], int(rate * seconds)
    bodies = [webhook(tag, i) for i in range(count)]
    due: dict[str, float] = {}
    seen: dict[str, float] = {}
    acks: list[float] = []
    polls: list[float] = []
    loop = asyncio.get_running_loop()
    async with (
        httpx.AsyncClient(base_url=ingest, timeout=30) as hooks,
        httpx.AsyncClient(base_url=inbox, headers=headers(workspace), timeout=30) as api,
    ):

        async def send(body: bytes, text: str, at: float) -> None:
            due[text] = at
            await hooks.post("/webhooks/whatsapp", content=body, headers=signed(body))
            acks.append(loop.time() - at)

        async def poll() -> None:
            deadline = loop.time() + seconds + 60
            while len(seen) < count and loop.time() < deadline:
                started = loop.time()
                page = (await api.get("/conversations", params={"limit": 200})).json()
                polls.append(loop.time() - started)
                for row in page["items"]:
                    text = row["last_message"]["preview"]
                    if text in due and text not in seen:
                        seen[text] = loop.time()

        poller, tasks, begin = asyncio.create_task(poll()), [], loop.time()
        for i, (body, text) in enumerate(bodies):
            if (wait := begin + i / rate - loop.time()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(send(body, text, begin + i / rate)))
        await asyncio.gather(*tasks)
        await poller
    latencies = [seen[t] - due[t] for t in seen]
    return {
        "rate": rate,
        "listed_ratio": len(seen) / count,
        "e2e": percentiles(latencies),
        "webhook_ack": percentiles(acks),
        "list_poll": percentiles(polls),
    }


async def timed(op: Callable[[], Awaitable[Any]], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await op()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


async def kafka_hop(bootstrap: str, n: int) -> dict[str, float]:
    """A raw aiokafka produce (acks=all) then consume of one record: the floor of each hop."""
    topic = f"bench.inbox.{uuid.uuid4().hex[:6]}"
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=[topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    try:

        async def hop() -> None:
            await producer.send_and_wait(topic, b"x")
            await consumer.getone()

        return await timed(hop, n)
    finally:
        await consumer.stop()
        await producer.stop()


def _get(api: httpx.AsyncClient, path: str, params: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    return lambda: api.get(path, params=params)


async def raw_finds(
    collection: Any, workspace: str, oldest_shown: str, n: int
) -> dict[str, dict[str, float]]:
    """The store alone: the window that holds the first page (the list's own query shape), and
    for contrast the sorted find the list used before (the workspace read whole, then sorted)."""
    since = datetime.fromisoformat(oldest_shown) - timedelta(milliseconds=1)
    window = {"workspace_id": workspace, "lists": "all", "last_activity_at": {"$gt": since}}
    before = {"workspace_id": workspace, "last_activity_at": {"$exists": True}}
    newest = [("last_activity_at", -1), ("_id", -1)]
    return {
        "raw_store_find": await timed(lambda: collection.find(window, LIST_FIELDS).to_list(), n),
        "raw_sorted_find_before": await timed(
            lambda: collection.find(before, LIST_FIELDS).sort(newest).limit(51).to_list(),
            max(2, n // 50),
        ),
    }


async def lists(
    inbox: str, mongo: AsyncMongoClient[Any], database: str, workspace: str, n: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=inbox, headers=headers(workspace), timeout=30) as api:
        first = (await api.get("/conversations", params={"limit": 50})).json()
        result = {
            name: await timed(_get(api, "/conversations", params | {"limit": 50}), n)
            for name, params in QUERIES.items()
        }
        next_page = {"cursor": first["next_cursor"], "limit": 50}
        result["page_2"] = await timed(_get(api, "/conversations", next_page), n)
        result["counts"] = await timed(lambda: api.get("/conversations/counts"), max(3, n // 10))
        result["bare_http"] = await timed(lambda: api.get("/healthz"), n)
    oldest_shown = first["items"][-1]["last_activity_at"]
    result |= await raw_finds(mongo[database]["conversations"], workspace, oldest_shown, n)
    scratch = mongo[database]["bench_scratch"]
    result["raw_store_upsert"] = await timed(
        lambda: scratch.update_one({"_id": uuid.uuid4().hex}, {"$inc": {"n": 1}}, upsert=True), n
    )
    return result
