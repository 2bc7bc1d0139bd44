"""The load side of the ingest benchmark: signed Meta-shaped bodies, a light keep-alive HTTP/1.1
pool, an open-loop scheduler and the raw aiokafka ceiling."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer

SECRET, APP, PNID = "bench-app-secret", "bench-app", "110928374650192"
Request = Callable[[int], Awaitable[int]]


def webhook(i: int, customers: int = 0) -> bytes:
    """A compact, Meta-shaped text message with its own wamid (~700 bytes), from a customer of
    `customers` who write in turn (0: each webhook from a new customer)."""
    wa_id = f"2126{(i % customers if customers else i) % 10**8:08d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212522000111", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Client"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": f"wamid.bench{uuid.uuid4().hex}",
                      "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": "Salam, wach kayn had l-produit b lon akhor?"}}],
    }  # fmt: skip
    change = {"value": value, "field": "messages"}
    entry = {"id": "104857361029384", "changes": [change]}
    body = {"object": "whatsapp_business_account", "entry": [entry]}
    return json.dumps(body, separators=(",", ":")).encode()


def signed_request(body: bytes, port: int) -> bytes:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nX-Hub-Signature-256: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


class Pool:
    """Keep-alive HTTP/1.1 connections: far lighter than a full client, so the generator does
    not eat the CPU the server under test needs."""

    def __init__(self, port: int, size: int) -> None:
        self.port, self.size = port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._opened = 0

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._opened < self.size:
            self._opened += 1
            return await asyncio.open_connection("127.0.0.1", self.port)
        return await self._idle.get()

    async def send(self, raw: bytes) -> int:
        reader, writer = await self._connection()
        writer.write(raw)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        self._idle.put_nowait((reader, writer))
        return int(status_line.split()[1]) if status_line else 0

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def open_loop(request: Request, rate: float, seconds: float) -> dict[str, float]:
    """Requests start on schedule whatever the answers do; latency counts from the schedule."""
    count, latencies, errors = int(rate * seconds), [], 0
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def one(i: int, due: float) -> None:
        nonlocal errors
        status = await request(i)
        latencies.append(loop.time() - due)
        errors += status != 200

    tasks = []
    for i in range(count):
        due = started + i / rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - started
    return {"target_per_s": rate, "count": count, "achieved_per_s": count / elapsed,
            "errors": errors, "p50_ms": percentile(latencies, 0.5) * 1e3,
            "p99_ms": percentile(latencies, 0.99) * 1e3,
            "p999_ms": percentile(latencies, 0.999) * 1e3}  # fmt: skip


async def kafka_ceiling(bootstrap: str, records: list[bytes], window: int) -> dict[str, float]:
    """A raw aiokafka loop writing what ingest writes per webhook (raw body + one event)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=1, max_request_size=4 * 1024 * 1024)  # fmt: skip
    await producer.start()
    try:
        started = time.perf_counter()
        for start in range(0, len(records), window):
            futures = []
            for body in records[start : start + window]:
                futures.append(await producer.send("bench.ingest.raw", body, key=b"k"))
                futures.append(await producer.send("bench.ingest.events", body[:1000], key=b"k"))
            await asyncio.gather(*futures)
        return {"webhooks_per_s": len(records) / (time.perf_counter() - started)}
    finally:
        await producer.stop()
