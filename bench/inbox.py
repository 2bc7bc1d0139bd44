"""Inbox benchmark: signed webhook at ingest -> listed by the inbox API, and the list at N rows.

Run by hand: `uv run python -m bench.inbox` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). Ingest and the inbox run as their
own processes. Part 1 sends signed webhooks at fixed rates (open loop, one new contact each) while a
poller reads the conversation list; latency runs from the scheduled send to the first list that
shows the message. Part 2 seeds N conversations (default 100,000; `--list-only` runs this part
alone) into the inbox's store, as the store writes them, and times every list through the API.
Ceilings of the same run: the bare HTTP endpoint, a raw aiokafka
produce->consume hop, raw store upserts and the raw store query behind the list. Writes
bench/results/inbox.md and bench/results/inbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.figure import median_of
from bench.inbox_seed import seed
from bench.inbox_workloads import (
    APP,
    PNID,
    headers,
    kafka_hop,
    lists,
    open_loop,
    skip_history,
    start,
)
from devtools.stack import running_stack
from devtools.store import BENCH

RESULTS = Path(__file__).resolve().parent / "results"


async def one_run(urls: dict[str, str], stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    rates = [
        await open_loop(urls["ingest"], urls["inbox"], urls["workspace"], rate, args.seconds)
        for rate in args.rates
    ]
    hop = await kafka_hop(stack.kafka_bootstrap_servers, args.samples) if rates else {}
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    try:
        listing = await lists(
            urls["inbox"], mongo, urls["database"], urls["list_workspace"], args.samples
        )
    finally:
        await mongo.close()
    return {"rates": rates, "kafka_hop": hop, "lists": listing}


async def seed_store(stack: Any, database: str, workspace: str, count: int) -> float:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    try:
        return await seed(mongo, database, workspace, count)
    finally:
        await mongo.close()


P = ("p50_ms", "p99_ms")
E2E = {
    "listed_ratio": ("listed_ratio",),
    "e2e_p50_ms": ("e2e", "p50_ms"),
    "e2e_p99_ms": ("e2e", "p99_ms"),
    "ack_p50_ms": ("webhook_ack", "p50_ms"),
    "ack_p99_ms": ("webhook_ack", "p99_ms"),
    "poll_p50_ms": ("list_poll", "p50_ms"),
}


def report(
    runs: list[dict[str, Any]], args: argparse.Namespace, seeded_per_s: float
) -> dict[str, Any]:
    rows = [
        {"rate": rate} | {name: median_of(runs, "rates", i, *path) for name, path in E2E.items()}
        for i, rate in enumerate(args.rates)
    ]
    lists = {name: {k: median_of(runs, "lists", name, k) for k in P} for name in runs[0]["lists"]}
    return {
        "when": datetime.now(UTC).isoformat(),
        "runs": len(runs),
        "seconds": args.seconds,
        "conversations": args.conversations,
        "seeded_per_s": seeded_per_s,
        "e2e": rows,
        "lists": lists,
        "kafka_hop": {k: median_of(runs, "kafka_hop", k) for k in P} if args.rates else None,
        "raw": runs,
    }


def markdown(s: dict[str, Any]) -> str:
    lines = [
        "# Inbox benchmark",
        "",
        f"{s['when']}: medians of {s['runs']} run(s), {s['seconds']} s per rate. E2E = from the "
        "scheduled signed webhook to the first conversation list (polled) that shows the message; "
        "ack = ingest's 200 (Kafka has it); poll = one list request.",
        "",
        "| rate/s | listed | e2e p50 ms | e2e p99 ms | ack p50 ms | ack p99 ms | poll p50 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s["e2e"]:
        lines.append(
            f"| {r['rate']:g} | {r['listed_ratio']:.0%} | {r['e2e_p50_ms']:.0f} | "
            f"{r['e2e_p99_ms']:.0f} | {r['ack_p50_ms']:.0f} | {r['ack_p99_ms']:.0f} | "
            f"{r['poll_p50_ms']:.0f} |"
        )
    lines += [
        "",
        f"List queries through the API with {s['conversations']:,} conversations in the "
        f"workspace (seeded at {s['seeded_per_s']:.0f}/s), 50 rows a page:",
        "",
        "| query | p50 ms | p99 ms |",
        "|---|---|---|",
    ]
    for name, value in s["lists"].items():
        lines.append(f"| {name} | {value['p50_ms']:.1f} | {value['p99_ms']:.1f} |")
    lines += [
        "",
        "A page reads one list over windows of last activity that widen until the page is "
        "full (see services/inbox/inbox/conversations/store/listing.py); counts are "
        "maintained counters. "
        "Floors of the same run: bare_http (an API round trip), raw_store_find (the store "
        "alone returning the window that holds the first page), raw_store_upsert; "
        "raw_sorted_find_before is the query the list made before (the workspace read whole, "
        "then sorted in the store), for contrast.",
    ]
    if hop := s["kafka_hop"]:
        lines.append(
            f"Raw aiokafka produce->consume hop p50 {hop['p50_ms']:.1f} ms, p99 "
            f"{hop['p99_ms']:.1f} ms (E2E crosses two Kafka hops and 2-3 store writes per "
            "message)."
        )
    return "\n".join([*lines, ""])


def register_channel(ingest: str, workspace: str) -> None:
    channel = {"phone_number_id": PNID, "meta_app_id": APP, "access_token": "EAAG-bench"}
    httpx.post(
        f"{ingest}/channels", json=channel, headers=headers(workspace, "admin")
    ).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rates", type=lambda s: [float(r) for r in s.split(",")], default=[10.0, 25.0, 50.0]
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=100_000, help="seeded for the list")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--samples", type=int, default=200, help="requests per list query")
    parser.add_argument(
        "--list-only", action="store_true", help="only the list at N (no webhooks, no ingest)"
    )
    args = parser.parse_args(argv)
    if args.list_only:
        args.rates = []
    with running_stack(store_settings=BENCH) as stack, tempfile.TemporaryDirectory() as logs:
        urls = {
            "database": f"bench_inbox_{uuid.uuid4().hex[:8]}",
            "workspace": f"bench-{uuid.uuid4().hex[:6]}",
            "list_workspace": f"bench-list-{uuid.uuid4().hex[:6]}",
        }
        asyncio.run(skip_history(stack.kafka_bootstrap_servers, urls["database"]))
        services = start(
            stack.kafka_bootstrap_servers,
            stack.mongodb_url,
            Path(logs),
            urls["database"],
            with_ingest=not args.list_only,
        )
        try:
            urls |= {service.name: service.url for service in services}
            if not args.list_only:
                register_channel(urls["ingest"], urls["workspace"])
            seeded = asyncio.run(
                seed_store(stack, urls["database"], urls["list_workspace"], args.conversations)
            )
            runs = [asyncio.run(one_run(urls, stack, args)) for _ in range(args.runs)]
        finally:
            for service in services:
                service.stop()
            asyncio.run(_drop(stack.mongodb_url, urls["database"]))
    summary = report(runs, args, seeded)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "inbox.json").write_text(json.dumps(summary, indent=2, default=str))
    (args.out / "inbox.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


async def _drop(url: str, database: str) -> None:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(url)
    try:
        await mongo.drop_database(database)
    finally:
        await mongo.close()


if __name__ == "__main__":
    raise SystemExit(main())
