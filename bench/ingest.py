"""Ingest benchmark: signed webhooks per second, each in Kafka (acks=all) before its 200.

Run by hand: `uv run python -m bench.ingest` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). An open-loop generator sends
signed webhooks at fixed rates and records the ack latency of each; in the same run it measures
the ceilings the result is a ratio of: the bare HTTP endpoint of the same server at the same
rates, and a raw aiokafka produce loop writing the same records. Writes bench/results/ingest.md
and bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from devtools.procs import free_port, start_process, stop_process, wait_until
from devtools.services import infra_env
from devtools.stack import running_stack
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

RESULTS = Path(__file__).resolve().parent / "results"
SECRET, APP, PNID = "bench-app-secret", "bench-app", "110928374650192"
Request = Callable[[int], Awaitable[int]]


def webhook(i: int) -> bytes:
    """A compact, Meta-shaped text message with its own wamid (~700 bytes)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212522000111", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Client"}, "wa_id": f"2126{i % 10**8:08d}"}],
        "messages": [{"from": f"2126{i % 10**8:08d}", "id": f"wamid.bench{uuid.uuid4().hex}",
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
    return {"target_per_s": rate, "achieved_per_s": count / elapsed, "errors": errors,
            "p50_ms": percentile(latencies, 0.5) * 1e3, "p99_ms": percentile(latencies, 0.99) * 1e3,
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


def start_ingest(kafka: str, mongo: str, workers: int, logs: Path) -> tuple[Any, int]:
    port = free_port()
    apps = {APP: {"app_secrets": [SECRET], "verify_token": "bench"}}
    env = {**os.environ, **infra_env(kafka, mongo, HANOUT_ENV="test", LOG_LEVEL="WARNING",
           INGEST_META_APPS=json.dumps(apps),
           INGEST_MONGODB_DATABASE=f"bench_ingest_{uuid.uuid4().hex[:8]}")}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "ingest.app:create_app", "--factory", "--port",
           str(port), "--no-access-log", "--workers", str(workers), "--loop", "uvloop",
           "--http", "httptools"]  # fmt: skip
    proc = start_process(cmd, logs / "ingest.log", env=env)

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, what="ingest", timeout=120, proc=proc, logs=[logs / "ingest.log"])
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="bench", workspace_id=f"bench-{port}",
                           roles=["admin"])  # fmt: skip
    channel = {"phone_number_id": PNID, "meta_app_id": APP, "access_token": "EAAG-bench"}
    httpx.post(f"http://127.0.0.1:{port}/channels", json=channel,
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    return proc, port


def sending(pool: Pool, requests: list[bytes]) -> Request:
    async def send(i: int) -> int:
        return await pool.send(requests[i])

    return send


async def one_run(port: int, bootstrap: str, args: argparse.Namespace) -> dict[str, Any]:
    pool = Pool(port, args.connections)
    bare = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        await open_loop(sending(pool, [bare] * 200), 200, 1.0)  # warm-up
        result: dict[str, Any] = {"rates": {}}
        for rate in args.rates:
            requests = [signed_request(webhook(i), port) for i in range(int(rate * args.seconds))]
            webhooks = await open_loop(sending(pool, requests), rate, args.seconds)
            ceiling = await open_loop(sending(pool, [bare] * len(requests)), rate, args.seconds)
            result["rates"][str(rate)] = {"webhooks": webhooks, "bare_http": ceiling}
        records = [webhook(i) for i in range(int(max(args.rates) * args.seconds))]
        result["kafka_ceiling"] = await kafka_ceiling(bootstrap, records, args.connections)
        return result
    finally:
        await pool.close()


def median_of(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        values.append(float(node))
    return statistics.median(values)


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    rows = []
    for rate in args.rates:
        key = str(rate)
        row = {"rate": rate}
        for metric in ("achieved_per_s", "p50_ms", "p99_ms", "p999_ms", "errors"):
            row[metric] = median_of(runs, "rates", key, "webhooks", metric)
        row["bare_achieved_per_s"] = median_of(runs, "rates", key, "bare_http", "achieved_per_s")
        row["bare_p99_ms"] = median_of(runs, "rates", key, "bare_http", "p99_ms")
        rows.append(row)
    kafka = median_of(runs, "kafka_ceiling", "webhooks_per_s")
    return {"when": datetime.now(UTC).isoformat(), "runs": len(runs), "seconds": args.seconds,
            "workers": args.workers, "rows": rows, "kafka_ceiling_webhooks_per_s": kafka,
            "raw": runs}  # fmt: skip


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Ingest benchmark",
        "",
        f"{summary['when']}: medians of {summary['runs']} run(s), {summary['seconds']} s per "
        f"rate, {summary['workers']} uvicorn worker(s). Latency = from the scheduled send to "
        "the 200 (open loop), each webhook acknowledged by Kafka (acks=all) before its 200.",
        "",
        "| rate/s | achieved/s | p50 ms | p99 ms | p99.9 ms | errors | bare p99 ms | "
        "vs bare achieved |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        ratio = row["achieved_per_s"] / row["bare_achieved_per_s"]
        lines.append(
            f"| {row['rate']} | {row['achieved_per_s']:.0f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['p999_ms']:.1f} | {row['errors']:.0f} | "
            f"{row['bare_p99_ms']:.1f} | {ratio:.2f} |"
        )
    kafka = summary["kafka_ceiling_webhooks_per_s"]
    lines += ["", f"Raw aiokafka ceiling (2 records per webhook, acks=all): {kafka:.0f}/s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")],
                        default=[250.0, 500.0, 1000.0, 2000.0, 4000.0])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of ingest")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    with running_stack() as stack, tempfile.TemporaryDirectory() as logs:
        proc, port = start_ingest(stack.kafka_bootstrap_servers, stack.mongodb_url,
                                  args.workers, Path(logs))  # fmt: skip
        try:
            runs = [asyncio.run(one_run(port, stack.kafka_bootstrap_servers, args))
                    for _ in range(args.runs)]  # fmt: skip
        finally:
            stop_process(proc)
    summary = report(runs, args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "ingest.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
