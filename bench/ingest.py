"""Ingest benchmark: signed webhooks per second, each in Kafka (acks=all) before its 200.

Run by hand: `uv run python -m bench.ingest` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). An open-loop generator sends
signed webhooks at fixed rates and records the ack latency of each; in the same run it measures
the ceilings the result is a ratio of: the bare HTTP endpoint of the same server at the same
rates, and a raw aiokafka produce loop writing the same records. It also reads the CPU the ingest
processes and the machine spent, to say what limits the result. Writes bench/results/ingest.md
and bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.figure import median_of
from bench.ingest_load import (
    APP,
    PNID,
    SECRET,
    Pool,
    flat_out,
    kafka_ceiling,
    open_loop,
    signed_request,
    webhook,
)
from bench.procstats import listeners, url_port
from devtools.procs import free_port, http_ready, start_process, stop_process, wait_until
from devtools.services import infra_env
from devtools.stack import running_stack
from devtools.store import BENCH
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

RESULTS = Path(__file__).resolve().parent / "results"
TICK = os.sysconf("SC_CLK_TCK")
Request = Callable[[int], Awaitable[int]]
SUSTAINED = 0.95  # a rate is sustained when this share of it is achieved without errors


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (uvicorn's workers)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Pids:
    """The processes whose CPU a rate is read against: ingest (and its workers), Kafka, the store;
    the load generator is this process."""

    ingest: int
    kafka: int | None
    store: int | None

    def cpu_s(self) -> dict[str, float]:
        found = {"ingest": tree_cpu_s(self.ingest), "generator": time.process_time()}
        for role, pid in (("kafka", self.kafka), ("store", self.store)):
            found[role] = tree_cpu_s(pid) if pid else 0.0
        return found


def infrastructure_pids(bootstrap: str, mongo_url: str) -> tuple[int | None, int | None]:
    ports = {url_port(bootstrap): "kafka", url_port(mongo_url): "store"}
    by_role = {role: pid for pid, role in listeners({p: r for p, r in ports.items() if p}).items()}
    return by_role.get("kafka"), by_role.get("store")


async def measured(
    request: Request, rate: float, seconds: float, pids: Pids, connections: int = 0
) -> dict[str, float]:
    """The open-loop result (flat out over `connections` when `rate` is 0), with the CPU each
    process and the whole machine spent meanwhile."""
    cpu, (busy, total) = pids.cpu_s(), machine_jiffies()
    if rate:
        result = await open_loop(request, rate, seconds)
    else:
        result = await flat_out(request, connections, seconds)
    spent = {role: value - cpu[role] for role, value in pids.cpu_s().items()}
    busy_now, total_now = machine_jiffies()
    busy, total = busy_now - busy, total_now - total
    elapsed = result["count"] / result["achieved_per_s"]
    result = {**result, "server_cpu_ms_per_request": spent["ingest"] / result["count"] * 1e3,
              "server_cpu_percent": 100 * spent["ingest"] / elapsed,
              "machine_busy_percent": 100 * busy / max(total, 1)}  # fmt: skip
    for role in ("kafka", "store", "generator"):
        result[f"{role}_cpu_percent"] = 100 * spent[role] / elapsed
    return result


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
    ready = f"http://127.0.0.1:{port}/readyz"
    wait_until(lambda: http_ready(ready), what="ingest", timeout=120, proc=proc,
               logs=[logs / "ingest.log"])  # fmt: skip
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


def signing(pool: Pool, port: int, customers: int) -> Request:
    """Each webhook made and signed as it goes: a flat-out run has no count known in advance."""

    async def send(i: int) -> int:
        return await pool.send(signed_request(webhook(i, customers), port))

    return send


async def one_run(
    port: int, pids: Pids, bootstrap: str, args: argparse.Namespace
) -> dict[str, Any]:
    pool = Pool(port, args.connections)
    bare = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        await open_loop(sending(pool, [bare] * 200), 200, 1.0)  # warm-up
        result: dict[str, Any] = {"rates": {}}
        for rate in args.rates:
            count = int(rate * args.seconds)
            requests = [signed_request(webhook(i, args.customers), port) for i in range(count)]
            webhooks = await measured(sending(pool, requests), rate, args.seconds, pids)
            ceiling = await measured(
                sending(pool, [bare] * len(requests)), rate, args.seconds, pids
            )
            result["rates"][str(rate)] = {"webhooks": webhooks, "bare_http": ceiling}
        if args.max_seconds:
            flowing = signing(pool, port, args.customers)
            flat = await measured(flowing, 0, args.max_seconds, pids, args.connections)
            result["max_throughput"] = flat
        records = [webhook(i) for i in range(int(max(args.rates) * args.seconds))]
        result["kafka_ceiling"] = await kafka_ceiling(bootstrap, records, args.connections)
        return result
    finally:
        await pool.close()


ROW_METRICS = ("achieved_per_s", "p50_ms", "p99_ms", "p999_ms", "errors", "server_cpu_percent",
               "server_cpu_ms_per_request", "machine_busy_percent", "kafka_cpu_percent",
               "store_cpu_percent", "generator_cpu_percent")  # fmt: skip


MAX_METRICS = ("achieved_per_s", "p50_ms", "p99_ms", "errors", "server_cpu_percent",
               "machine_busy_percent")  # fmt: skip


def report(runs: list[dict[str, Any]], args: argparse.Namespace, workers: int) -> dict[str, Any]:
    rows = []
    for rate in args.rates:
        key = str(rate)
        row = {"rate": rate}
        for metric in ROW_METRICS:
            row[metric] = median_of(runs, "rates", key, "webhooks", metric)
        row["bare_achieved_per_s"] = median_of(runs, "rates", key, "bare_http", "achieved_per_s")
        row["bare_p99_ms"] = median_of(runs, "rates", key, "bare_http", "p99_ms")
        row["bare_cpu_ms_per_request"] = median_of(
            runs, "rates", key, "bare_http", "server_cpu_ms_per_request"
        )
        rows.append(row)
    kafka = median_of(runs, "kafka_ceiling", "webhooks_per_s")
    summary = {"when": datetime.now(UTC).isoformat(), "runs": len(runs), "seconds": args.seconds,
               "workers": workers, "customers": args.customers, "cores": os.cpu_count(),
               "rows": rows, "kafka_ceiling_webhooks_per_s": kafka, "raw": runs}  # fmt: skip
    if args.max_seconds:
        summary["max_throughput"] = {
            m: median_of(runs, "max_throughput", m) for m in MAX_METRICS
        } | {"connections": args.connections, "seconds": args.max_seconds}
    summary["limits"] = what_limits(summary)
    return summary


def sustained(row: dict[str, Any]) -> bool:
    return bool(row["errors"] == 0 and row["achieved_per_s"] >= SUSTAINED * row["rate"])


def cpu_shares(row: dict[str, Any], cores: int) -> str:
    """Each process's CPU at a rate, in % of one core; `others`: what the rest of the machine
    spent meanwhile (other users of a shared machine)."""
    roles = {
        "ingest": row["server_cpu_percent"],
        "Kafka": row["kafka_cpu_percent"],
        "store": row["store_cpu_percent"],
        "load generator": row["generator_cpu_percent"],
    }
    others = max(0.0, row["machine_busy_percent"] * cores - sum(roles.values()))
    return ", ".join(f"{role} {share:.0f}%" for role, share in {**roles, "others": others}.items())


def what_limits(summary: dict[str, Any]) -> str:
    """One sentence from the figures: which resource ran out first at the highest rate."""
    rows, workers, cores = summary["rows"], summary["workers"], summary["cores"]
    best = max((row["rate"] for row in rows if sustained(row)), default=0.0)
    top = rows[-1]
    flat = summary.get("max_throughput")
    if flat and flat["server_cpu_percent"] / workers >= 85:
        verdict = "ingest's own CPU (each worker's event loop busy all the time flat out)"
        return (
            f"What limits it: {verdict}: {flat['achieved_per_s']:,.0f} webhooks/s flat out over "
            f"{flat['connections']} connections, ingest at {flat['server_cpu_percent']:.0f}% "
            f"CPU, the machine {flat['machine_busy_percent']:.0f}% busy on {summary['cores']} "
            f"cores; raw aiokafka writes {summary['kafka_ceiling_webhooks_per_s']:,.0f} "
            "webhooks/s."
        )
    if flat and flat["machine_busy_percent"] >= 85:
        return (
            f"What limits it: the machine's CPU, shared by ingest, Kafka, the store and the load "
            f"generator: {flat['achieved_per_s']:,.0f} webhooks/s flat out, the machine "
            f"{flat['machine_busy_percent']:.0f}% busy, ingest at "
            f"{flat['server_cpu_percent']:.0f}% CPU over {workers} worker(s)."
        )
    per_worker = top["server_cpu_percent"] / workers
    if per_worker >= 85:
        verdict = "ingest's own CPU (each worker's event loop is busy all the time)"
    elif top["machine_busy_percent"] >= 85:
        verdict = "the machine's CPU, shared by ingest, Kafka, the store and the load generator"
    elif sustained(top):
        verdict = "nothing yet: the highest rate asked for was sustained"
    else:
        verdict = "waiting on Kafka's acknowledgements (acks=all), not CPU"
    cpu_ms = top["server_cpu_ms_per_request"]
    return (
        f"What limits it: {verdict}. Highest rate sustained without errors: {best:,.0f}/s. At "
        f"{top['rate']:,.0f}/s ingest used {cpu_ms:.2f} ms CPU per webhook ({per_worker:.0f}% "
        f"of a core per worker, {workers} worker(s); one core ≈ {1000 / max(cpu_ms, 1e-3):,.0f} "
        f"webhooks/s) and the machine was {top['machine_busy_percent']:.0f}% busy on "
        f"{cores} cores (in % of one core: {cpu_shares(top, cores)}); the bare endpoint costs "
        f"{top['bare_cpu_ms_per_request']:.2f} ms per request and raw aiokafka writes "
        f"{summary['kafka_ceiling_webhooks_per_s']:,.0f} webhooks/s."
    )


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Ingest benchmark",
        "",
        f"{summary['when']}: medians of {summary['runs']} run(s), {summary['seconds']} s per "
        f"rate, {summary['workers']} uvicorn worker(s), "
        f"{summary['customers'] or 'every webhook from a new'} customer(s). Latency = from the "
        "scheduled send to the 200 (open loop), each acknowledged by Kafka (acks=all) before it. "
        "CPU in % of one core.",
        "",
        "| rate/s | achieved/s | p50 ms | p99 ms | p99.9 ms | errors | CPU ms/webhook | "
        "ingest | Kafka | generator | machine busy | bare p99 ms | vs bare achieved |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        ratio = row["achieved_per_s"] / row["bare_achieved_per_s"]
        lines.append(
            f"| {row['rate']:.0f} | {row['achieved_per_s']:.0f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['p999_ms']:.1f} | {row['errors']:.0f} | "
            f"{row['server_cpu_ms_per_request']:.2f} | {row['server_cpu_percent']:.0f}% | "
            f"{row['kafka_cpu_percent']:.0f}% | {row['generator_cpu_percent']:.0f}% | "
            f"{row['machine_busy_percent']:.0f}% | {row['bare_p99_ms']:.1f} | {ratio:.2f} |"
        )
    kafka = summary["kafka_ceiling_webhooks_per_s"]
    if flat := summary.get("max_throughput"):
        lines.append(
            f"| flat out ({flat['connections']} connections) | {flat['achieved_per_s']:.0f} | "
            f"{flat['p50_ms']:.1f} | {flat['p99_ms']:.1f} | — | {flat['errors']:.0f} | — | "
            f"{flat['machine_busy_percent']:.0f}% | — | — |"
        )
    lines += ["", f"Raw aiokafka ceiling (2 records per webhook, acks=all): {kafka:.0f}/s.", ""]
    lines += [summary["limits"], ""]
    return "\n".join(lines)


def without_raw(part: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in part.items() if key != "raw"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")],
                        default=[250.0, 500.0, 1000.0, 2000.0, 4000.0])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")],
                        default=[1, 2], help="ingest's uvicorn workers: runs each")  # fmt: skip
    parser.add_argument("--max-seconds", type=float, default=10.0,
                        help="flat out (closed loop) after the rates; 0: none")  # fmt: skip
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--customers", type=int, default=0, help="customers writing in turn (0: each a new one)"
    )
    args = parser.parse_args(argv)
    parts = []
    with running_stack(store_settings=BENCH) as stack, tempfile.TemporaryDirectory() as logs:
        for workers in args.workers:
            proc, port = start_ingest(stack.kafka_bootstrap_servers, stack.mongodb_url,
                                      workers, Path(logs))  # fmt: skip
            kafka, store = infrastructure_pids(stack.kafka_bootstrap_servers, stack.mongodb_url)
            pids = Pids(proc.pid, kafka, store)
            try:
                runs = [asyncio.run(one_run(port, pids, stack.kafka_bootstrap_servers, args))
                        for _ in range(args.runs)]  # fmt: skip
            finally:
                stop_process(proc)
            parts.append(report(runs, args, workers))
    # The first worker count at the top (what reports read before), every count beside it.
    summary = parts[0] | {"by_workers": [without_raw(part) for part in parts]}
    args.out.mkdir(parents=True, exist_ok=True)
    text = "\n".join(markdown(part) for part in parts)
    (args.out / "ingest.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "ingest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
