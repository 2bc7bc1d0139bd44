"""The headline figures of each benchmark's JSON, beside their same-run ceiling and their goal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.figure import (
    FULL_CONVERSATIONS,
    FULL_CUSTOMERS,
    FULL_IMPORT_ROWS,
    GOAL_RATE,
    GOAL_STREAMS,
    Figure,
    Goal,
    Reader,
    closest,
)

# Floors, and the contrast of the query the list made before: none of them is a list query.
LIST_FLOORS = ("bare_http", "raw_store_find", "raw_store_upsert", "raw_sorted_find_before")


def ingest(r: Reader) -> list[Figure]:
    """Per worker count (one, in a report of before the 2-worker runs): the best throughput
    without errors, open loop or flat out, and the ack p99 at the goal's rate."""
    parts = r.get("by_workers") if "by_workers" in r.data else [r.data]
    found: list[Figure] = []
    for part in parts or []:
        workers = int(part.get("workers", 1))
        found += ingest_part(r, part, "" if workers == 1 else f", {workers} workers")
    return found


def ingest_part(r: Reader, part: dict[str, Any], suffix: str) -> list[Figure]:
    rows = r.get("rows", node=part) or []
    clean = [row for row in rows if not row.get("errors")]
    best = max(clean, key=lambda row: row.get("achieved_per_s", 0.0), default=None)
    flat_out = part.get("max_throughput") or {}
    top = max((float(row.get("rate", 0)) for row in rows), default=0.0)
    candidates = [r.number("achieved_per_s", node=best)] if best else []
    if flat_out and not flat_out.get("errors"):
        candidates.append(r.number("achieved_per_s", node=flat_out))
    value = max((c for c in candidates if c is not None), default=None)
    at = closest(rows, GOAL_RATE, lambda row: row.get("rate", 0))
    rate = float(at["rate"]) if at else 0.0
    limit = str(part.get("limits", "")).removeprefix("What limits it: ")
    kafka = r.get("kafka_ceiling_webhooks_per_s", node=part)
    throughput = Figure(
        "ingest",
        "ingest throughput (no errors)" + suffix,
        "webhooks/s",
        value=value,
        ceiling=float(kafka) if isinstance(kafka, int | float) else None,
        ceiling_name="raw aiokafka produce loop",
        at=("flat out, " if flat_out else "") + f"rates up to {top:,.0f}/s",
        goal=Goal(">=", 3000, ""),
        at_goal_size=bool(flat_out) or top >= 3000,
        limit=limit,
    )
    ack = Figure(
        "ingest",
        "webhook ack p99" + suffix,
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
        goal=Goal("<=", 100, "at 1,000/s, 50 streams"),
        at_goal_size=rate == GOAL_RATE and (r.get("clients") or 0) >= GOAL_STREAMS,
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
        goal=Goal(">=", 1000, ""),
    )
    return [end_to_end, path, intake]


def delivered(r: Reader, row: Any) -> str:
    share = r.number("delivered", node=row) if row else None
    return f", {share:.0%} delivered" if share is not None else ""


def customers(r: Reader, sizes: dict[str, Any]) -> list[Figure]:
    count = r.data.get("customers", sizes.get("customers"))
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
    rows = sizes.get("import_rows")
    imports = Figure(
        "customers",
        "CSV import",
        "rows/s",
        value=r.number("import", "per_s"),
        ceiling=r.number("raw_store_insert", "per_s"),
        ceiling_name="raw store inserts",
        at=f"{rows:,} rows" if rows else "",
        # 100,000 rows in 2 minutes or less
        goal=Goal(">=", FULL_IMPORT_ROWS / 120, "(100,000 rows in ≤ 2 min)"),
        at_goal_size=(rows or 0) >= FULL_IMPORT_ROWS,
    )
    found = [lookup, concurrent, imports]
    memory = r.data.get("import") or {}
    if "rss_peak_mb" in memory:  # the customers process, sampled during the import
        found.append(
            Figure(
                "customers",
                "customers RSS peak during the import",
                "MB",
                value=r.number("rss_peak_mb", node=memory),
                ceiling=r.number("rss_start_mb", node=memory),
                ceiling_name="its RSS when the import started",
                at=f"{rows:,} rows" if rows else "",
            )
        )
    return found


def orders(r: Reader) -> list[Figure]:
    return [
        Figure(
            "orders",
            f"order {name.replace('_', ' ')}s",
            "ops/s",
            value=r.number(name, "per_s"),
            ceiling=r.number("raw_store", "per_s"),
            ceiling_name="raw store upserts (counter + insert)",
            goal=Goal(">=", 500, "") if name == "create" else None,
        )
        for name in ("create", "stage_change")
    ]


def inbox(r: Reader) -> list[Figure]:
    top = max(r.get("e2e") or [], key=lambda row: row.get("rate", 0), default=None)
    lists = r.get("lists") or {}
    queries = {name: v for name, v in lists.items() if name not in LIST_FLOORS}
    conversations = r.number("conversations") or 0
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
        at=f"{conversations:,.0f} conversations, {len(queries)} queries",
        goal=Goal("<=", 50, "at 100k conversations, every filter"),
        at_goal_size=conversations >= FULL_CONVERSATIONS,
    )
    return [listed, query]


def inbox_batch(r: Reader) -> list[Figure]:
    messages, contacts = r.number("messages") or 0, r.number("contacts") or 0
    return [
        Figure(
            "inbox_batch",
            "webhook batch → every message listed",
            "ms",
            value=r.number("listed_ms"),
            ceiling=r.number("accepted_ms"),
            ceiling_name="ingest alone accepting the batch",
            at=f"{messages:,.0f} messages, {contacts:,.0f} contacts",
            goal=Goal("<=", 5000, "for 1,000 messages"),
            at_goal_size=messages >= 1000,
            limit=str(r.data.get("limits", "")),
        )
    ]


def campaign(r: Reader) -> list[Figure]:
    """The lag p99 of each variant in the inbox and in customers, beside a raw Kafka hop."""
    sends, replies = r.number("sends") or 0, r.number("replies") or 0
    full = sends >= 1000 and replies >= 300
    found = []
    for variant, part in (r.get("variants") or {}).items():
        # The module's reading of its limit is of the slower service in the spread variant.
        wheres = ("inbox", "customers")
        lags = {where: r.number(f"{where}_p99_ms", node=part) or 0 for where in wheres}
        slower = max(lags, key=lambda where: lags[where])
        for where in wheres:
            spread = r.number("spread_s", node=part) or 0
            events = "replies" if where == "customers" else "statuses + replies"
            found.append(
                Figure(
                    "campaign",
                    f"campaign → {where} lag p99 ({variant})",
                    "ms",
                    value=r.number(f"{where}_p99_ms", node=part),
                    ceiling=r.number("kafka_hop", "p99_ms"),
                    ceiling_name="raw Kafka hop p99",
                    at=f"{sends:,.0f} sends, {events} over {spread:g} s, "
                    f"{r.number(f'{where}_visible', node=part) or 0:.0%} visible",
                    goal=Goal("<=", 2000, "1,000 sends, 300 replies in 60 s"),
                    at_goal_size=full and (variant != "spread" or spread >= 60),
                    limit=str(r.data.get("limits", ""))
                    if (variant, where) == ("spread", slower)
                    else "",
                )
            )
    return found


def figures(
    module: str, data: dict[str, Any], sizes: dict[str, Any]
) -> tuple[list[Figure], list[str]]:
    """The headline figures of one module's JSON, and the keys it lacked."""
    r = Reader(module, data)
    builders: dict[str, Callable[[], list[Figure]]] = {
        "ingest": lambda: ingest(r),
        "customers": lambda: customers(r, sizes),
        "orders": lambda: orders(r),
        "inbox": lambda: inbox(r),
        "inbox_live": lambda: inbox_live(r),
        "inbox_batch": lambda: inbox_batch(r),
        "campaign": lambda: campaign(r),
    }
    found = builders[module]() if module in builders else []
    return found, r.missing
