"""Orders benchmark: creates/s and stage changes/s with p99, against same-run ceilings.

Run by hand: `uv run python -m bench.orders` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). Writes bench/results/orders.md
and bench/results/orders.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient, ReturnDocument

from devtools.services import ServiceProcess, infra_env
from devtools.stack import running_stack
from devtools.store import BENCH
from hanout_shared.contracts import topics
from hanout_shared.contracts.customers import CustomerCard, CustomerCreated, CustomerCreatedEvent
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.kafka import ensure_topics
from hanout_shared.platform.settings import DEV_JWT_SECRET

RAW_TOPIC = "bench.raw.v1"
RESULTS = Path(__file__).resolve().parent / "results"
Op = Callable[[int], Awaitable[Any]]
ORDER = {
    "customer_id": "cus-bench",
    "lines": [{"name": "Caftan", "sku": "CAF-01", "quantity": 2, "unit_price": "249.90"}],
    "shipping_fee": "35.00",
    "shipping_city": "Casablanca",
}


async def measure(op: Op, count: int, concurrency: int) -> dict[str, float]:
    """Run `op(i)` for i < count with `concurrency` in flight; rate and latency percentiles."""
    latencies: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            start = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "per_s": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": p99 * 1e3,
    }


def checked(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    return response


async def announce_customer(bootstrap: str, workspace: str) -> None:
    """The bench's customer, created as the customers service would tell orders about it."""
    card = CustomerCard(customer_id=ORDER["customer_id"], version=1)
    event = CustomerCreatedEvent.create(
        source="hanout/customers",
        workspaceid=workspace,
        subject=card.customer_id,
        data=CustomerCreated(customer=card),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.CUSTOMERS_EVENTS,
            event.model_dump_json().encode(),
            key=card.customer_id.encode(),
            headers=[("content-type", CONTENT_TYPE.encode())],
        )
    finally:
        await producer.stop()


async def customer_known(http: httpx.AsyncClient, timeout_s: float = 60.0) -> None:
    """Poll with a first order until orders has read the customer (each try waits a little)."""
    deadline = time.monotonic() + timeout_s
    while (await http.post("/orders", json=ORDER)).status_code != 201:
        if time.monotonic() > deadline:
            raise RuntimeError("orders never learnt the bench's customer")


async def one_run(
    url: str, stack_env: dict[str, str], size: int, concurrency: int
) -> dict[str, Any]:
    workspace = f"bench-{uuid.uuid4().hex[:8]}"
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="bench", workspace_id=workspace)
    headers = {"Authorization": f"Bearer {token}"}
    created: list[str] = []
    await announce_customer(stack_env["KAFKA_BOOTSTRAP_SERVERS"], workspace)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        await customer_known(http)

        async def bare(_: int) -> None:
            checked(await http.get("/healthz"), 200)

        async def create(_: int) -> None:
            created.append(checked(await http.post("/orders", json=ORDER), 201).json()["id"])

        async def move(i: int) -> None:
            body = {"stage_id": "confirmed"}
            path = f"/orders/{created[i]}/stage"
            checked(await http.post(path, json=body, headers={"If-Match": '"1"'}), 200)

        results = {"bare_http": await measure(bare, size, concurrency)}
        results["create"] = await measure(create, size, concurrency)
        results["stage_change"] = await measure(move, size, concurrency)
    results["raw_store"] = await raw_store(stack_env["MONGODB_URL"], size, concurrency)
    results["raw_kafka"] = await raw_kafka(stack_env["KAFKA_BOOTSTRAP_SERVERS"], size, concurrency)
    return results


async def raw_store(url: str, size: int, concurrency: int) -> dict[str, float]:
    """The store ceiling of a create: one counter increment and one insert, nothing else."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    db = client[f"bench_raw_{uuid.uuid4().hex[:8]}"]

    async def write(i: int) -> None:
        await db["counters"].find_one_and_update(
            {"_id": "ws"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        await db["orders"].insert_one({"_id": i, **ORDER})

    try:
        return await measure(write, size, concurrency)
    finally:
        await client.drop_database(db.name)
        await client.close()


async def raw_kafka(bootstrap: str, size: int, concurrency: int) -> dict[str, float]:
    """The broker ceiling of a create: one acknowledged, idempotent produce of a similar size."""
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=[RAW_TOPIC])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    body = json.dumps({"data": ORDER, "pad": "x" * 900}).encode()
    try:
        return await measure(
            lambda i: producer.send_and_wait(RAW_TOPIC, body, key=str(i).encode()),
            size,
            concurrency,
        )
    finally:
        await producer.stop()


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        name: {m: statistics.median(run[name][m] for run in runs) for m in runs[0][name]}
        for name in runs[0]
    }


def report(result: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    lines = [
        f"# Orders benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{args.size} operations per measure, {args.concurrency} in flight, median of "
        f"{args.runs} runs. Ceilings measured in the same run: `bare_http` (GET /healthz of the "
        "same service and client), `raw_store` (a counter $inc + an insert, the least a create "
        "writes), `raw_kafka` (acks=all produce of ~1 KB).",
        "",
        "| measure | ops/s | p50 ms | p99 ms | vs bare_http | vs raw_store |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in result.items():
        ratios = [row["per_s"] / result[base]["per_s"] for base in ("bare_http", "raw_store")]
        lines.append(
            f"| {name} | {row['per_s']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            + " | ".join(f"{ratio:.2f}" for ratio in ratios)
            + " |"
        )
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    with running_stack(store_settings=BENCH) as stack, tempfile.TemporaryDirectory() as logs:
        env = infra_env(
            stack.kafka_bootstrap_servers,
            stack.mongodb_url,
            HANOUT_ENV="test",
            LOG_LEVEL="WARNING",
            ORDERS_MONGODB_DATABASE=f"orders_bench_{uuid.uuid4().hex[:8]}",
        )
        service = ServiceProcess("orders", env, Path(logs))
        service.start()
        try:
            service.wait_ready()
            runs = [
                await one_run(service.url, stack.env(), args.size, args.concurrency)
                for _ in range(args.runs)
            ]
        finally:
            service.stop()
    return medians(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="operations per measure")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "orders.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "orders.md").write_text(report(result, args))
    print(report(result, args))


if __name__ == "__main__":
    main()
