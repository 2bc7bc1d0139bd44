"""The headline figures of each benchmark's JSON, beside their same-run ceiling and their goal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.figure import FULL_CUSTOMERS, GOAL_RATE, Figure, Goal, Reader, closest

# Floors, and the contrast of the query the list made before: none of them is a list query.
LIST_FLOORS = ("bare_http", "raw_store_find", "raw_store_upsert", "raw_sorted_find_before")


def ingest(r: Reader) -> list[Figure]:
    rows = r.get("rows") or []
    clean = [row for row in rows if not row.get("errors")]
    best = max(clean, key=lambda row: row.get("achieved_per_s", 0.0), default=None)
    top = max((float(row.get("rate", 0)) for row in rows), default=0.0)
    at = closest(rows, GOAL_RATE, lambda row: row.get("rate", 0))
    rate = float(at["rate"]) if at else 0.0
    throughput = Figure(
        "ingest",
        "ingest throughput (no errors)",
        "webhooks/s",
        value=r.number("achieved_per_s", node=best) if best else None,
        ceiling=r.number("kafka_ceiling_webhooks_per_s"),
        ceiling_name="raw aiokafka produce loop",
        at=f"rates up to {top:,.0f}/s",
        goal=Goal(">=", 3000, ""),
        at_goal_size=top >= 3000,
    )
    ack = Figure(
        "ingest",
        "webhook ack p99",
        "ms",
        value=r.number("p99_ms", node=at) if at else None,
        ceiling=r.number("bare_p99_ms", node=at) if at else None,
        ceiling_name="bare endpoint p99",
        at=f"{rate:,.0f}/s",
        goal=Goal("<=", 15, "at 1,000/s"),
        at_goal_size=rate == GOAL_RATE,
    )
    return [throughput, ack]


def inbox_live(r: Reader) -> list[Figure]:
    """End to end at its highest rate (the store caps it far below the goal's); the live path
    alone at the goal's rate; what one consumer takes in, beside the store's bound."""
    e2e = max(r.get("e2e_rows") or [], key=lambda row: row.get("rate", 0), default=None)
    rate = float(e2e["rate"]) if e2e else 0.0
    live_rows = r.get("live_rows") or []
    beside = closest(live_rows, rate, lambda row: row.get("rate", 0))
    live = closest(live_rows, GOAL_RATE, lambda row: row.get("rate", 0))
    live_rate = float(live["rate"]) if live else 0.0
    streams = f"{r.get('clients')} streams"
    end_to_end = Figure(
        "inbox_live",
        "webhook → live client p99",
        "ms",
        value=r.number("p99_ms", node=e2e) if e2e else None,
        ceiling=r.number("p99_ms", node=beside) if beside else None,
        ceiling_name=f"live path alone p99 at {float(beside['rate']):,.0f}/s" if beside else "",
        at=f"{rate:,.0f}/s, {streams}{delivered(r, e2e)}",
        goal=Goal("<=", 100, "at 1,000/s"),
        at_goal_size=rate == GOAL_RATE,
    )
    path = Figure(
        "inbox_live",
        "inbox event → live client p99",
        "ms",
        value=r.number("p99_ms", node=live) if live else None,
        ceiling=r.number("floors", "kafka_hop", "p99_ms"),
        ceiling_name="raw Kafka hop p99",
        at=f"{live_rate:,.0f}/s, {streams}{delivered(r, live)}",
    )
    writes = r.get("floors", "writes") or {}
    per_message = r.number("writes_per_message", node=writes) if writes else None
    upserts = r.number("raw_upserts_per_s", node=writes) if writes else None
    intake = Figure(
        "inbox_live",
        "inbox intake, one consumer",
        "messages/s",
        value=r.number("messages_per_s", node=writes) if writes else None,
        ceiling=upserts / per_message if upserts and per_message else None,
        ceiling_name="store bound (raw upserts/s ÷ writes per message)",
    )
    return [end_to_end, path, intake]


def delivered(r: Reader, row: Any) -> str:
    share = r.number("delivered", node=row) if row else None
    return f", {share:.0%} delivered" if share is not None else ""


def customers(r: Reader, seeded: int | None) -> list[Figure]:
    count = r.data.get("customers", seeded)
    if "customers" not in r.data:
        r.missing.append("customers.json: customers (the number seeded)")
    lookup = Figure(
        "customers",
        "customer lookup p99",
        "ms",
        value=r.number("lookup", "p99_ms"),
        ceiling=r.number("bare_http", "p99_ms"),
        ceiling_name="bare endpoint p99",
        at=f"{count:,} customers" if count else "",
        goal=Goal("<=", 5, "at 1M customers"),
        at_goal_size=(count or 0) >= FULL_CUSTOMERS,
    )
    concurrent = Figure(
        "customers",
        "lookups, concurrent",
        "ops/s",
        value=r.number("lookup_concurrent", "per_s"),
        ceiling=r.number("bare_http_concurrent", "per_s"),
        ceiling_name="bare endpoint, concurrent",
    )
    imports = Figure(
        "customers",
        "CSV import",
        "rows/s",
        value=r.number("import", "per_s"),
        ceiling=r.number("raw_store_insert", "per_s"),
        ceiling_name="raw store inserts",
    )
    return [lookup, concurrent, imports]


def orders(r: Reader) -> list[Figure]:
    return [
        Figure(
            "orders",
            f"order {name.replace('_', ' ')}s",
            "ops/s",
            value=r.number(name, "per_s"),
            ceiling=r.number("raw_store", "per_s"),
            ceiling_name="raw store upserts (counter + insert)",
        )
        for name in ("create", "stage_change")
    ]


def inbox(r: Reader) -> list[Figure]:
    top = max(r.get("e2e") or [], key=lambda row: row.get("rate", 0), default=None)
    lists = r.get("lists") or {}
    queries = {name: v for name, v in lists.items() if name not in LIST_FLOORS}
    slowest = max(queries, key=lambda name: queries[name].get("p99_ms", 0), default=None)
    listed = Figure(
        "inbox",
        "webhook → listed p99",
        "ms",
        value=r.number("e2e_p99_ms", node=top) if top else None,
        ceiling=r.number("kafka_hop", "p99_ms"),
        ceiling_name="raw Kafka hop p99",
        at=f"{r.number('rate', node=top) or 0:,.0f}/s" if top else "",
    )
    query = Figure(
        "inbox",
        f"slowest list query p99 ({slowest})",
        "ms",
        value=r.number(slowest, "p99_ms", node=lists) if slowest else None,
        ceiling=r.number("raw_store_find", "p99_ms", node=lists),
        ceiling_name="raw store find p99",
        at=f"{r.number('conversations') or 0:,.0f} conversations",
    )
    return [listed, query]


def figures(
    module: str, data: dict[str, Any], sizes: dict[str, Any]
) -> tuple[list[Figure], list[str]]:
    """The headline figures of one module's JSON, and the keys it lacked."""
    r = Reader(module, data)
    builders: dict[str, Callable[[], list[Figure]]] = {
        "ingest": lambda: ingest(r),
        "customers": lambda: customers(r, sizes.get("customers")),
        "orders": lambda: orders(r),
        "inbox": lambda: inbox(r),
        "inbox_live": lambda: inbox_live(r),
    }
    found = builders[module]() if module in builders else []
    return found, r.missing
