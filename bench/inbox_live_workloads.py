"""The live-update benchmark's workloads: open SSE streams, webhooks and events at fixed rates,
the store floor, and the processes under test."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from bench.inbox_workloads import PNID, headers, percentiles, signed, webhook
from devtools.groups import start_groups_at_end
from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.contracts.inbox import (
    InboxMessageReceived,
    InboxMessageReceivedEvent,
    MessageState,
)
from inbox.kafka import durable_groups

APPS = json.dumps({"bench-app": {"app_secrets": ["bench-app-secret"], "verify_token": "bench"}})
MARK = re.compile(rb'"summary":"(bench \w+ \d+)"')


class Streams:
    """N open streams of one workspace; notes when each marked message reaches each stream."""

    def __init__(self, url: str, workspace: str, count: int) -> None:
        self._url, self._headers, self.count = url, headers(workspace), count
        self.seen: dict[str, list[float]] = {}
        self._open = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Streams:
        self._tasks = [asyncio.create_task(self._read()) for _ in range(self.count)]
        deadline = time.monotonic() + 60
        while self._open < self.count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self._open} of {self.count} streams opened")
            await asyncio.sleep(0.05)
        return self

    async def _read(self) -> None:
        """A bare socket, not an HTTP client: 50 streams at 1,000 events/s are 50,000 events/s
        to read, and the reader must not be what limits the benchmark. Uvicorn writes whole
        events per chunk, so chunk-size lines never split a mark; TCP reads may, hence the
        whole-line scan."""
        url = urlsplit(self._url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        request = f"GET /stream HTTP/1.1\r\nHost: {url.netloc}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in self._headers.items()
        )
        writer.write(request.encode() + b"\r\n")
        try:
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"stream refused: {status!r}")
            self._open += 1
            loop, tail = asyncio.get_running_loop(), b""
            while chunk := await reader.read(1 << 16):
                now, text = loop.time(), tail + chunk
                cut = text.rfind(b"\n") + 1
                for found in MARK.finditer(text, 0, cut):
                    self.seen.setdefault(found.group(1).decode(), []).append(now)
                tail = text[cut:]
        finally:
            writer.close()

    async def __aexit__(self, *_: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def latencies(self, due: dict[str, float]) -> tuple[list[float], float]:
        deliveries = [
            t - due[mark] for mark, times in self.seen.items() if mark in due for t in times
        ]
        return deliveries, len(deliveries) / max(1, len(due) * self.count)


def arrived(streams: Streams, due: dict[str, float]) -> int:
    return sum(len(streams.seen.get(mark, [])) for mark in due)


async def settle(streams: Streams, due: dict[str, float], count: int, grace_s: float) -> None:
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if arrived(streams, due) >= len(due) * count:
            return
        await asyncio.sleep(0.1)


async def drain(
    streams: Streams, due: dict[str, float], quiet_s: float = 5, most_s: float = 300
) -> None:
    """After the measure: let a backlog the rate left behind clear before the next rate starts,
    until everything arrived or nothing more did for `quiet_s`."""
    deadline, last, last_change = time.monotonic() + most_s, -1, time.monotonic()
    while time.monotonic() < deadline and (now := arrived(streams, due)) < len(due) * streams.count:
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > quiet_s:
            return
        await asyncio.sleep(0.2)


async def webhooks(ingest: str, streams: Streams, rate: float, seconds: float) -> dict[str, Any]:
    """Open loop: each webhook leaves on schedule whatever the earlier ones are doing."""
    tag, loop = uuid.uuid4().hex[:6], asyncio.get_running_loop()
    bodies, due, acks = [webhook(tag, i) for i in range(int(rate * seconds))], {}, []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=ingest, timeout=30) as hooks:

        async def send(body: bytes, at: float) -> None:
            # A webhook not acknowledged in time is an error of this rate, not the end of the run.
            try:
                answer = await hooks.post("/webhooks/whatsapp", content=body, headers=signed(body))
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                return
            if answer.status_code != 200:
                errors.append(str(answer.status_code))
                return
            acks.append(loop.time() - at)

        tasks, begin = [], loop.time()
        for i, (body, text) in enumerate(bodies):
            if (wait := begin + i / rate - loop.time()) > 0:
                await asyncio.sleep(wait)
            due[text] = begin + i / rate
            tasks.append(asyncio.create_task(send(body, due[text])))
        await asyncio.gather(*tasks)
    await settle(streams, due, streams.count, grace_s=30)
    deliveries, ratio = streams.latencies(due)
    await drain(streams, due)
    return {
        "rate": rate,
        "delivered": ratio,
        "e2e": percentiles(deliveries),
        "ack": percentiles(acks),
        "webhook_errors": len(errors),
    }


def live_event(workspace: str, mark: str) -> bytes:
    """An inbox event as the inbox publishes it, carrying the mark the streams look for."""
    message = MessageState(
        message_id=mark,
        conversation_id=mark,
        conversation_key=f"{workspace}:{PNID}:{mark}",
        direction="inbound",
        message_type="text",
        summary=mark,
        at=datetime.now(UTC),
    )
    event = InboxMessageReceivedEvent.create(
        source="bench/inbox_live",
        workspaceid=workspace,
        subject=mark,
        data=InboxMessageReceived(message=message),
    )
    return event.model_dump_json(exclude_none=True).encode()


async def live_path(
    bootstrap: str, workspace: str, streams: Streams, rate: float, seconds: float
) -> dict[str, Any]:
    """The ceiling: events produced straight to inbox.events.v1, no ingest and no store."""
    tag, loop, due = uuid.uuid4().hex[:6], asyncio.get_running_loop(), {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        begin, sends = loop.time(), []
        for i in range(int(rate * seconds)):
            if (wait := begin + i / rate - loop.time()) > 0:
                await asyncio.sleep(wait)
            mark = f"bench {tag} {i}"
            due[mark] = begin + i / rate
            sends.append(await producer.send(topics.INBOX_EVENTS, live_event(workspace, mark)))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    await settle(streams, due, streams.count, grace_s=30)
    deliveries, ratio = streams.latencies(due)
    return {"rate": rate, "delivered": ratio, "e2e": percentiles(deliveries)}


async def store_upserts(url: str, database: str, n: int) -> dict[str, float]:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(url)
    scratch, samples = mongo[database]["bench_scratch"], []
    try:
        for _ in range(n):
            started = time.perf_counter()
            await scratch.update_one({"_id": uuid.uuid4().hex}, {"$inc": {"n": 1}}, upsert=True)
            samples.append(time.perf_counter() - started)
    finally:
        await mongo.drop_database(database)
        await mongo.close()
    return percentiles(samples) | {"per_s": n / sum(samples)}


async def skip_history(bootstrap: str, group: str) -> None:
    """The shared broker holds other runs' messages: the inbox's groups start at the end."""
    await start_groups_at_end(bootstrap, durable_groups(group))


@contextmanager
def services(kafka: str, mongo: str, logs: Path, database: str) -> Iterator[dict[str, str]]:
    common = {"HANOUT_ENV": "test", "LOG_LEVEL": "WARNING"}
    ingest = ServiceProcess(
        "ingest",
        infra_env(
            kafka,
            mongo,
            **common,
            INGEST_META_APPS=APPS,
            INGEST_MONGODB_DATABASE=f"{database}_ingest",
        ),
        logs,
    )
    inbox = ServiceProcess(
        "inbox",
        infra_env(
            kafka, mongo, **common, INBOX_MONGODB_DATABASE=database, INBOX_CONSUMER_GROUP=database
        ),
        logs,
    )
    try:
        for service in (ingest, inbox):
            service.start()
        for service in (ingest, inbox):
            service.wait_ready(timeout=120)
        yield {"ingest": ingest.url, "inbox": inbox.url}
    finally:
        inbox.stop()
        ingest.stop()
