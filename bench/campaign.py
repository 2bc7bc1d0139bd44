"""Campaign benchmark: 1,000 sends, then 3,000 status webhooks and 300 replies -> inbox and
customers caught up.

Run by hand: `uv run python -m bench.campaign` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). Ingest, the inbox and the
customers service run as their own processes, with the Meta simulator as the Graph API ingest
sends to (its own statuses off: the benchmark plays Meta). Each run registers a business number
of its own; N contacts write first (the set-up, not measured), then an agent sends each of them a
message through the inbox API. Once Graph has accepted every send, the statuses (sent, delivered,
read of each send) and the replies arrive as signed webhooks, spread over `--spread` seconds
(open loop) and, in the burst variant, all at once. Lag, per event: from its webhook's 200 to
visible, in the inbox on an agent's live stream (`GET /stream`: the inbox publishes once it has
stored) and, for a reply, in the customers API (the contact's lookup shows it was seen then).
Floor of the same run: a raw aiokafka produce->consume hop (every event crosses two).
Writes bench/results/campaign.md and .json (or into --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.figure import median_of
from bench.inbox_workloads import headers, kafka_hop, percentiles
from bench.ingest_load import Pool, signed_request
from bench.meta_client import (
    Stream,
    contact,
    conversations,
    customer_text,
    lags,
    new_number,
    post_all,
    register,
    services,
    status,
)
from devtools.stack import running_stack
from devtools.store import BENCH

RESULTS = Path(__file__).resolve().parent / "results"
STATES = ("sent", "delivered", "read")
BURST = 0.0


@dataclass
class Run:
    """One run's workspace, number, contacts and what the agent sent them."""

    workspace: str
    pnid: str
    contacts: list[str]
    conversation_of: dict[str, str] = field(default_factory=dict)
    wamid_of: dict[str, str] = field(default_factory=dict)  # contact -> the send's wamid


@dataclass
class Event:
    at: float  # seconds after the start of the phase
    body: bytes
    kind: str  # a status, or "reply"
    key: str  # the wamid of the send or of the reply
    contact: str
    stamp: int = 0


def plan(run: Run, replies: int, spread: float) -> list[Event]:
    """Each send's statuses in order over the first part of the spread, the replies after its
    read: what a campaign's answers look like. A burst (spread 0) is the same events at once."""
    events, stamp, n = [], int(time.time()), len(run.contacts)
    for j, who in enumerate(run.contacts):
        wamid, start = run.wamid_of[who], spread * 0.5 * j / n
        for k, state in enumerate(STATES):
            body = status(run.pnid, wamid, state, who, stamp + k)
            events.append(Event(start + spread * 0.15 * k, body, state, wamid, who))
    for j, who in enumerate(run.contacts[:replies]):
        body, wamid = customer_text(run.pnid, who, f"reply {j}", stamp + len(STATES))
        at = spread * (0.4 + 0.6 * j / max(1, replies))
        events.append(Event(at, body, "reply", wamid, who, stamp + len(STATES)))
    return sorted(events, key=lambda e: e.at)


async def set_up(ingest: str, port: int, inbox: str, args: argparse.Namespace) -> Run:
    """The contacts write first (an hour ago: their windows are open), then each has a
    conversation the agent can send in."""
    tag = uuid.uuid4().hex[:6]
    run = Run(f"bench-{tag}", new_number(), [contact(tag, i) for i in range(args.sends)])
    await asyncio.to_thread(register, ingest, run.workspace, run.pnid)
    hour_ago = int(time.time()) - 3600
    bodies = [customer_text(run.pnid, who, "salam", hour_ago)[0] for who in run.contacts]
    await post_all(port, bodies, args.connections)
    async with httpx.AsyncClient(base_url=inbox, headers=headers(run.workspace)) as api:
        deadline = time.monotonic() + 120
        while len(run.conversation_of) < len(run.contacts):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(run.conversation_of)} conversations of {args.sends}")
            rows = await conversations(api)
            run.conversation_of = {row["contact"]["wa_id"]: row["id"] for row in rows}
            await asyncio.sleep(0.2)
    return run


async def send_all(inbox: str, run: Run, stream: Stream, concurrency: int) -> dict[str, Any]:
    """The agent's sends; then until Graph accepted each (its wamid on the stream)."""
    created: dict[str, tuple[str, float]] = {}  # contact -> (message id, 201 at)
    answers: list[float] = []
    queue = iter(run.contacts)
    async with httpx.AsyncClient(base_url=inbox, headers=headers(run.workspace), timeout=60) as api:

        async def worker() -> None:
            for who in queue:
                path = f"/conversations/{run.conversation_of[who]}/messages"
                body = {"content": {"kind": "text", "body": f"Promo -20% {who}"}}
                started = time.monotonic()
                answer = await api.post(path, json=body, headers={"Idempotency-Key": who})
                answer.raise_for_status()
                created[who] = (answer.json()["id"], time.monotonic())
                answers.append(time.monotonic() - started)

        started = time.monotonic()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        sent_s = time.monotonic() - started
    deadline = time.monotonic() + 120
    while any(m not in stream.wamids for m, _ in created.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("Graph did not accept every send within 120 s")
        await asyncio.sleep(0.05)
    run.wamid_of = {who: stream.wamids[m] for who, (m, _) in created.items()}
    accepted = [
        (at, stream.status_seen(run.wamid_of[who], "accepted")) for who, (_, at) in created.items()
    ]
    return {"sends_per_s": len(created) / sent_s, "send": percentiles(answers),
            "accepted": lags(accepted)}  # fmt: skip


async def deliver(
    port: int, events: list[Event], connections: int, acked: dict[int, float]
) -> None:
    """Open loop: each webhook leaves at its time whatever the others do; `acked` gets each
    one's 200 as it comes."""
    pool, loop = Pool(port, connections), asyncio.get_running_loop()

    async def one(i: int) -> None:
        if await pool.send(signed_request(events[i].body, port)) == 200:
            acked[i] = time.monotonic()

    try:
        begin, tasks = loop.time(), []
        for i, event in enumerate(events):
            if (wait := begin + event.at - loop.time()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    finally:
        await pool.close()


async def customers_caught_up(
    customers: str, workspace: str, replies: dict[int, Event], acked: dict[int, float], grace: float
) -> dict[int, float]:
    """Per reply, when the customers API first shows its contact seen at the reply's time: the
    pending contacts polled round after round, a few lookups in flight."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + grace
    async with httpx.AsyncClient(base_url=customers, headers=headers(workspace)) as api:
        gate = asyncio.Semaphore(8)

        async def look(i: int) -> None:
            async with gate:
                answer = await api.get("/customers/lookup", params={"wa_id": replies[i].contact})
            found = (answer.json().get("contact") or {}).get("last_seen_at")
            if found and datetime.fromisoformat(found).timestamp() >= replies[i].stamp:
                seen[i] = time.monotonic()

        while time.monotonic() < deadline and len(seen) < len(replies):
            pending = [i for i in replies if i in acked and i not in seen]
            await asyncio.gather(*(look(i) for i in pending))
            await asyncio.sleep(0.02)
    return seen


async def phase(urls: dict[str, str], run: Run, stream: Stream, spread: float,
                args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    """The campaign's answers at `spread` seconds, and how far behind the inbox and customers
    were, event by event."""
    events = plan(run, args.replies, spread)
    replies = {i: e for i, e in enumerate(events) if e.kind == "reply"}
    acked: dict[int, float] = {}
    watcher = asyncio.create_task(
        customers_caught_up(urls["customers"], run.workspace, replies, acked, spread + args.grace)
    )
    started = time.monotonic()
    await deliver(int(urls["ingest_port"]), events, args.connections, acked)
    posting_s = time.monotonic() - started
    deadline = time.monotonic() + args.grace
    while time.monotonic() < deadline and not caught_up(stream, events):
        await asyncio.sleep(0.05)
    customer_seen = await watcher
    inbox_pairs = [(t, visible(stream, events[i])) for i, t in acked.items()]
    customer_pairs = [(acked[i], customer_seen.get(i)) for i in replies if i in acked]
    errors = len(events) - len(acked)
    return {
        "spread_s": spread,
        "events": len(events),
        "webhook_errors": errors,
        "posted_per_s": len(events) / posting_s,
        "inbox": lags(inbox_pairs),
        "customers": lags(customer_pairs),
    }


def visible(stream: Stream, event: Event) -> float | None:
    if event.kind == "reply":
        return stream.received.get(event.key)
    return stream.status_seen(event.key, event.kind)


def caught_up(stream: Stream, events: list[Event]) -> bool:
    return all(visible(stream, event) is not None for event in events)


async def one_run(urls: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for variant, spread in (("spread", args.spread), ("burst", BURST)):
        run = await set_up(urls["ingest"], int(urls["ingest_port"]), urls["inbox"], args)
        async with Stream(urls["inbox"], run.workspace) as stream:
            sends = await send_all(urls["inbox"], run, stream, args.concurrency)
            result[variant] = await phase(urls, run, stream, spread, args) | {"sends": sends}
    result["kafka_hop"] = await kafka_hop(urls["kafka"], args.samples)
    return result


FIELDS = {
    "inbox_p50_ms": ("inbox", "p50_ms"),
    "inbox_p99_ms": ("inbox", "p99_ms"),
    "inbox_visible": ("inbox", "visible"),
    "customers_p50_ms": ("customers", "p50_ms"),
    "customers_p99_ms": ("customers", "p99_ms"),
    "customers_visible": ("customers", "visible"),
    "posted_per_s": ("posted_per_s",),
    "webhook_errors": ("webhook_errors",),
    "sends_per_s": ("sends", "sends_per_s"),
    "send_p99_ms": ("sends", "send", "p99_ms"),
    "accepted_p99_ms": ("sends", "accepted", "p99_ms"),
}


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    variants = {
        variant: {"spread_s": runs[0][variant]["spread_s"], "events": runs[0][variant]["events"]}
        | {name: median_of(runs, variant, *path) for name, path in FIELDS.items()}
        for variant in ("spread", "burst")
    }
    summary = {
        "sends": args.sends,
        "statuses": args.sends * len(STATES),
        "replies": args.replies,
        "runs": len(runs),
        "variants": variants,
        "kafka_hop": {k: median_of(runs, "kafka_hop", k) for k in ("p50_ms", "p99_ms")},
        "raw": runs,
    }
    summary["limits"] = what_limits(summary)
    return summary


def what_limits(s: dict[str, Any]) -> str:
    spread, hop = s["variants"]["spread"], s["kafka_hop"]["p99_ms"]
    worst = max(spread["inbox_p99_ms"], spread["customers_p99_ms"])
    if worst != worst:
        return "nothing became visible in time: the consumers fell behind"
    if worst <= 4 * hop:
        return (f"the Kafka hops: p99 {worst:,.0f} ms is within 4 raw hops ({hop:.1f} ms each) "
                "of the floor")  # fmt: skip
    slower = "customers" if spread["customers_p99_ms"] > spread["inbox_p99_ms"] else "inbox"
    return (f"the {slower} service's consumers: its p99 lag is {worst:,.0f} ms against a raw hop's "
            f"{hop:.1f} ms; at {spread['posted_per_s']:,.0f} webhooks/s it queues the events "
            "behind one another (a customers lag includes its poll round)")  # fmt: skip


def markdown(s: dict[str, Any]) -> str:
    lines = [
        "# Campaign benchmark",
        "",
        f"{s['sends']:,} sends through the inbox API, then {s['statuses']:,} status webhooks and "
        f"{s['replies']:,} replies; medians of {s['runs']} run(s). Lag = from a webhook's 200 to "
        "visible: on the inbox's live stream, and for a reply in the customers API's lookup.",
        "",
        "| variant | webhooks/s | inbox p50 ms | inbox p99 ms | inbox visible | customers p50 "
        "ms | customers p99 ms | customers visible | sends/s | send p99 ms | send -> accepted "
        "p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, v in s["variants"].items():
        lines.append(
            f"| {name} ({v['spread_s']:g} s) | {v['posted_per_s']:,.0f} | {v['inbox_p50_ms']:,.0f} "
            f"| {v['inbox_p99_ms']:,.0f} | {v['inbox_visible']:.0%} | "
            f"{v['customers_p50_ms']:,.0f} | {v['customers_p99_ms']:,.0f} | "
            f"{v['customers_visible']:.0%} | {v['sends_per_s']:,.0f} | {v['send_p99_ms']:,.0f} "
            f"| {v['accepted_p99_ms']:,.0f} |"
        )
    hop = s["kafka_hop"]
    lines += [
        "",
        f"Raw aiokafka produce->consume hop p50 {hop['p50_ms']:.1f} ms, p99 {hop['p99_ms']:.1f} "
        "ms.",
        "",
        f"What limits it: {s['limits']}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sends", type=int, default=1000, help="messages the agent sends")
    parser.add_argument("--replies", type=int, default=300, help="customers who answer")
    parser.add_argument("--spread", type=float, default=60.0, help="s the answers arrive over")
    parser.add_argument("--grace", type=float, default=120.0, help="s to catch up after")
    parser.add_argument("--concurrency", type=int, default=16, help="sends in flight")
    parser.add_argument("--connections", type=int, default=32, help="webhooks in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--samples", type=int, default=200, help="raw Kafka hops for the floor")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    database = f"bench_campaign_{uuid.uuid4().hex[:8]}"
    with running_stack(store_settings=BENCH) as stack, tempfile.TemporaryDirectory() as logs:
        kafka, mongo = stack.kafka_bootstrap_servers, stack.mongodb_url
        with services(kafka, mongo, Path(logs), database, campaign=True) as procs:
            assert procs.customers is not None
            urls = {"ingest": procs.ingest.url, "ingest_port": str(procs.port("ingest")),
                    "inbox": procs.inbox.url, "customers": procs.customers.url,
                    "kafka": kafka}  # fmt: skip
            runs = [asyncio.run(one_run(urls, args)) for _ in range(args.runs)]
    summary = report(runs, args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "campaign.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "campaign.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
