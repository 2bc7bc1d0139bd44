"""Batch benchmark: 1,000 signed customer-message webhooks -> every message listed by the inbox.

Run by hand: `uv run python -m bench.inbox_batch` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). Ingest and the inbox run as their
own processes. Each run registers a business number of its own, then posts N webhooks (a few
messages from each of many contacts, interleaved) to ingest as fast as `--connections` take them,
while an agent polls the conversation list; the batch is listed when every conversation shows its
contact's last message and as many unread as the contact sent. Time runs from the first post.
Ceiling of the same run: the time ingest alone took to accept every webhook (the last 200).
Writes bench/results/inbox_batch.md and .json (or into --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.inbox_workloads import headers
from bench.meta_client import (
    contact,
    conversations,
    customer_text,
    new_number,
    post_all,
    register,
    services,
)
from devtools.stack import running_stack
from devtools.store import BENCH

RESULTS = Path(__file__).resolve().parent / "results"
POLL_PAUSE_S = 0.05


def batch(
    pnid: str, run: str, messages: int, per_contact: int
) -> tuple[list[bytes], dict[str, Any]]:
    """The webhooks, a contact's messages spread through the batch, and what the list must show
    at the end: per contact, its last text and its number of messages."""
    contacts = max(1, messages // per_contact)
    stamp, bodies, expected = int(time.time()), list[bytes](), dict[str, Any]()
    for i in range(messages):
        who, nth = contact(run, i % contacts), i // contacts
        text = f"batch {run} {i}"
        bodies.append(customer_text(pnid, who, text, stamp + nth)[0])
        last = expected.get(who, {"count": 0})
        expected[who] = {"count": last["count"] + 1, "text": text}
    return bodies, expected


def listed(rows: list[dict[str, Any]], expected: dict[str, Any]) -> int:
    """How many contacts' conversations show every message of theirs."""
    done = 0
    for row in rows:
        want = expected.get(row["contact"].get("wa_id"))
        preview = (row.get("last_message") or {}).get("preview")
        done += bool(want and row["unread_count"] == want["count"] and preview == want["text"])
    return done


async def one_run(ingest: str, port: int, inbox: str, args: argparse.Namespace) -> dict[str, Any]:
    workspace, pnid, run = f"bench-{uuid.uuid4().hex[:6]}", new_number(), uuid.uuid4().hex[:6]
    await asyncio.to_thread(register, ingest, workspace, pnid)
    bodies, expected = batch(pnid, run, args.messages, args.per_contact)
    polls = 0
    async with httpx.AsyncClient(base_url=inbox, headers=headers(workspace), timeout=60) as api:
        started = time.monotonic()
        posting = asyncio.create_task(post_all(port, bodies, args.connections))
        deadline, done = started + args.timeout, 0
        while time.monotonic() < deadline:
            done = listed(await conversations(api), expected)
            polls += 1
            if done == len(expected):
                break
            await asyncio.sleep(POLL_PAUSE_S)
        finished = time.monotonic()
        posted = await posting
    return {
        "listed_ms": (finished - started) * 1e3 if done == len(expected) else float("nan"),
        "accepted_ms": (max(posted["acked"]) - started) * 1e3,
        "errors": posted["errors"],
        "listed_ratio": done / len(expected),
        "polls": polls,
    }


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(float(run[key]) for run in runs)

    summary = {
        "messages": args.messages,
        "contacts": max(1, args.messages // args.per_contact),
        "connections": args.connections,
        "runs": len(runs),
        "listed_ms": median("listed_ms"),
        "accepted_ms": median("accepted_ms"),
        "listed_ratio": median("listed_ratio"),
        "errors": median("errors"),
        "raw": runs,
    }
    summary["limits"] = what_limits(summary)
    return summary


def what_limits(s: dict[str, Any]) -> str:
    """Ingest's share of the time says whether the webhooks or the inbox behind them bound it."""
    listed, accepted = s["listed_ms"], s["accepted_ms"]
    if listed != listed:  # NaN: not everything was listed in time
        return f"the inbox: only {s['listed_ratio']:.0%} of the batch was listed before the timeout"
    behind = listed - accepted
    if behind <= accepted:
        return (f"ingest accepting the webhooks ({accepted:,.0f} ms of {listed:,.0f} ms); the "
                f"inbox listed the last {behind:,.0f} ms after")  # fmt: skip
    return (f"the inbox's intake: it listed the batch {behind:,.0f} ms after ingest had accepted "
            f"all of it in {accepted:,.0f} ms")  # fmt: skip


def markdown(s: dict[str, Any]) -> str:
    return "\n".join([
        "# Inbox batch benchmark",
        "",
        f"{s['messages']:,} customer messages from {s['contacts']:,} contacts, posted signed to "
        f"ingest over {s['connections']} connections; medians of {s['runs']} run(s).",
        "",
        "| every message listed | ingest accepted all | listed | errors |",
        "|---:|---:|---:|---:|",
        f"| {s['listed_ms']:,.0f} ms | {s['accepted_ms']:,.0f} ms | {s['listed_ratio']:.0%} | "
        f"{s['errors']:.0f} |",
        "",
        f"What limits it: {s['limits']}.",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000, help="webhooks in the batch")
    parser.add_argument("--per-contact", type=int, default=4, help="messages per contact")
    parser.add_argument("--connections", type=int, default=32, help="posts in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--timeout", type=float, default=120.0, help="s for a batch to be listed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    database = f"bench_batch_{uuid.uuid4().hex[:8]}"
    with running_stack(store_settings=BENCH) as stack, tempfile.TemporaryDirectory() as logs:
        kafka, mongo = stack.kafka_bootstrap_servers, stack.mongodb_url
        with services(kafka, mongo, Path(logs), database, campaign=False) as procs:
            ingest, inbox = procs.ingest.url, procs.inbox.url
            port = procs.port("ingest")
            runs = [asyncio.run(one_run(ingest, port, inbox, args)) for _ in range(args.runs)]
    summary = report(runs, args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "inbox_batch.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "inbox_batch.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
