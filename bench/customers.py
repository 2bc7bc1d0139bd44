"""Customers benchmark: lookup p50/p99 and throughput at N customers, and CSV import rate.

Run by hand: `uv run python -m bench.customers` (starts its own broker and store unless
KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL point at running ones). Seeds N customers (default
1,000,000) straight into the service's store, then measures through the running service, each
against a ceiling of the same run: the bare HTTP endpoint, a raw indexed find_one, raw inserts.
Writes bench/results/customers.md and bench/results/customers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import phonenumbers

from bench.customers_seed import seeded, unused_numbers
from bench.procstats import MB, Sampler
from customers.store import Store, connect
from devtools.services import ServiceProcess, infra_env
from devtools.stack import running_stack
from devtools.store import BENCH
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

RESULTS = Path(__file__).resolve().parent / "results"
Op = Callable[[int], Awaitable[Any]]
FORMATS = ("0{n}", "+212 {n}", "00212{n}", "0{d}.{p}")


def numbers(start: int) -> Iterator[str]:
    """Valid, distinct Moroccan mobiles (national digits without the 0), from `start` on."""
    i = start
    while True:
        national = f"6{i:08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse("+212" + national)):
            yield national
        i += 1


def written(national: str) -> str:
    """The number as an agent might type it: any of the formats the shop meets."""
    layout = random.choice(FORMATS)
    dotted = ".".join(national[i : i + 2] for i in range(1, 9, 2))
    return layout.format(n=national, d=national[0], p=dotted)


async def measure(op: Op, count: int, concurrency: int) -> dict[str, float]:
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
    p50 = statistics.median(latencies)
    return {"per_s": count / elapsed, "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3}


async def csv_body(rows: int, first_number: int) -> AsyncIterator[bytes]:
    """A spreadsheet export, generated as it is sent: numbers in mixed formats, `;` separated."""
    yield b"name;phone;city;tags\n"
    source = numbers(first_number)
    for start in range(0, rows, 1000):
        count = min(1000, rows - start)
        yield "".join(
            f"Import {start + i};{written(next(source))};Rabat;csv\n" for i in range(count)
        ).encode()


async def job_state(http: httpx.AsyncClient, url: str, refused: list[str]) -> dict[str, Any]:
    """The job; a 503 (the store busy past the driver's timeout) is noted and asked again, as
    its Retry-After says, up to 20 times."""
    for _ in range(20):
        answer = await http.get(url)
        if answer.status_code != 503:
            break
        refused.append(answer.text)
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
    if answer.status_code != 200:
        raise RuntimeError(f"polling the import answered {answer.status_code}: {answer.text}")
    job: dict[str, Any] = answer.json()
    return job


async def import_rate(
    http: httpx.AsyncClient, rows: int, first_number: int, service_pid: int
) -> dict[str, float]:
    """Rows/s from the upload's start to the job's end, and the service's peak and starting
    resident memory meanwhile (sampled every 0.2 s): flat memory means the file is streamed."""
    with Sampler(root=service_pid, fixed={}, interval=0.2) as sampler:
        started = time.perf_counter()
        body = csv_body(rows, first_number)
        response = await http.post(
            "/customers/imports", content=body, headers={"content-type": "text/csv"}
        )
        response.raise_for_status()
        url = response.headers["location"]
        refused: list[str] = []
        while (job := await job_state(http, url, refused))["state"] == "running":
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
    if job["state"] != "completed" or job["created"] != rows:
        raise RuntimeError(f"import did not complete cleanly: {job}")
    rss = [sum(sample.values()) / MB for sample in sampler.role_rss]
    if refused:
        print(f"polling the import was answered 503 {len(refused)} times: {refused[0]}")
    memory = {"rss_start_mb": rss[0], "rss_peak_mb": max(rss), "polls_refused": len(refused)}
    # The service's CPU over the import, in % of one core: near 100 means its Python is the limit.
    memory["cpu_percent"] = sum(row["cpu_percent"] for row in sampler.summary())
    return {"per_s": rows / elapsed, "seconds": elapsed, **memory}


async def one_run(
    service: ServiceProcess,
    store: Store,
    workspace: str,
    phones: list[str],
    args: Any,
    first_import: int,
) -> dict[str, Any]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="bench", workspace_id=workspace)
    picks = [random.choice(phones) for _ in range(args.lookups)]
    async with httpx.AsyncClient(
        base_url=service.url, timeout=120, headers={"Authorization": f"Bearer {token}"}
    ) as http:

        async def bare(_: int) -> None:
            (await http.get("/healthz")).raise_for_status()

        async def lookup(i: int) -> None:
            response = await http.get("/customers/lookup", params={"phone": written(picks[i])})
            if response.json()["outcome"] != "known":
                raise RuntimeError(f"lookup missed {picks[i]}: {response.text[:200]}")

        async def raw_find(i: int) -> None:
            await store.customers.find_by_keys(workspace, [f"tel:+212{picks[i]}"])

        results = {}
        if args.lookups:
            results["bare_http"] = await measure(bare, args.lookups, 1)
            results["lookup"] = await measure(lookup, args.lookups, 1)
            results["raw_store_find"] = await measure(raw_find, args.lookups, 1)
            results["lookup_concurrent"] = await measure(lookup, args.lookups, args.concurrency)
            results["bare_http_concurrent"] = await measure(bare, args.lookups, args.concurrency)
        if args.import_rows:
            assert service.proc is not None
            pid = service.proc.pid
            results["import"] = await import_rate(http, args.import_rows, first_import, pid)
    return results


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        name: {m: statistics.median(run[name][m] for run in runs) for m in runs[0][name]}
        for name in runs[0]
    }


CEILINGS = {
    "lookup": "bare_http",
    "lookup_concurrent": "bare_http_concurrent",
    "import": "raw_store_insert",
}


def report(result: dict[str, dict[str, float]], args: argparse.Namespace, plan: str) -> str:
    lines = [
        f"# Customers benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{args.customers} customers in the store, {args.lookups} lookups per measure (numbers "
        f"typed in random formats), {args.import_rows} import rows, {args.concurrency} in "
        f"flight for the concurrent rows, median of {args.runs} runs. `vs ceiling` is the "
        "throughput ratio against the ceiling measured in the same run.",
        "",
        "| measure | ops/s | p50 ms | p99 ms | vs ceiling |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in result.items():
        base = CEILINGS.get(name)
        ratio = f"{row['per_s'] / result[base]['per_s']:.2f} ({base})" if base else "—"
        p50, p99 = (f"{row[k]:.2f}" if k in row else "—" for k in ("p50_ms", "p99_ms"))
        lines.append(f"| {name} | {row['per_s']:.0f} | {p50} | {p99} | {ratio} |")
    if "import" in result:
        row = result["import"]
        lines += [
            "",
            f"import: {args.import_rows} rows in {row['seconds']:.1f} s; the service's resident "
            f"memory {row['rss_start_mb']:.0f} MB at the start, {row['rss_peak_mb']:.0f} MB at "
            f"its peak (sampled every 0.2 s); its CPU {row.get('cpu_percent', 0):.0f}% of a core.",
        ]
    lines += [
        "",
        "raw_store_find: the lookup's store query (one indexed `$in` on the cards' keys), "
        "without HTTP; raw_store_insert: seeding rate in customers/s, each a card and a key "
        f"index row ({result['raw_store_insert']['docs_per_s']:.0f} documents/s), bulk-loaded "
        f"by `Store.load`. Lookup plan on the store: {plan}.",
    ]
    return "\n".join(lines) + "\n"


async def lookup_plan(client: Any, database: str, workspace: str, national: str) -> str:
    """The store's plan for the lookup's query and what it read: the work, whatever the load."""
    query = {"workspace_id": workspace, "keys": {"$in": [f"tel:+212{national}"]}}
    command = {"find": "customers", "filter": query}
    explained = await client[database].command("explain", command, verbosity="executionStats")
    stage = explained.get("queryPlanner", {}).get("winningPlan", {})
    steps = []
    while stage:
        steps.append(" ".join(filter(None, [stage.get("stage"), stage.get("indexName")])))
        stage = stage.get("inputStage")
    read = explained.get("executionStats", {})
    examined = f"{read.get('totalKeysExamined')} keys, {read.get('totalDocsExamined')} documents"
    return f"{' <- '.join(steps) or 'not reported'} ({examined} examined)"


async def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], str]:
    database = args.database or f"customers_bench_{uuid.uuid4().hex[:8]}"
    stack_at = {"data_dir": args.data_dir} if args.data_dir else {}
    with (
        running_stack(store_settings=BENCH, **stack_at) as stack,
        tempfile.TemporaryDirectory() as scratch,
    ):
        logs = args.logs or scratch
        client = connect(stack.mongodb_url)
        store = Store(client[database])
        await store.ensure_indexes()
        workspace = f"bench-{database}"
        if args.seed_only:
            _, rate = await seeded(client[database], store, workspace, args.customers)
            await client.close()
            return {"raw_store_insert": {"per_s": rate, "docs_per_s": 2 * rate}}, "not measured"
        env = infra_env(
            stack.kafka_bootstrap_servers,
            stack.mongodb_url,
            HANOUT_ENV="test",
            LOG_LEVEL="WARNING",
            CUSTOMERS_MONGODB_DATABASE=database,
        )
        service = ServiceProcess("customers", env, Path(logs))
        service.start()
        try:
            service.wait_ready()
            phones, rate = await seeded(client[database], store, workspace, args.customers)
            plan = await lookup_plan(client, database, workspace, phones[0])
            runs = []
            for _ in range(args.runs):
                # Every row of every import is a new card (numbers skipped as invalid: 2x).
                first = await unused_numbers(client[database], 2 * args.import_rows)
                runs.append(await one_run(service, store, workspace, phones, args, first))
        finally:
            service.stop()
            if not args.database:
                await client.drop_database(database)
            await client.close()
    return medians(runs) | {"raw_store_insert": {"per_s": rate, "docs_per_s": 2 * rate}}, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers seeded")
    parser.add_argument("--lookups", type=int, default=5000, help="lookups per measure (0: none)")
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of the CSV import (0: none)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--database", help="keep the seed in this database and reuse it (else a throwaway one)"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed --database, measure nothing")
    parser.add_argument("--logs", type=Path, help="keep the service's log here (else temporary)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the broker's and the store's data here (else temporary): with --database, a "
        "large seed is built over several runs, each within a time limit",
    )
    args = parser.parse_args()
    if args.seed_only and not args.database:
        parser.error("--seed-only needs --database")
    result, plan = asyncio.run(run(args))
    if args.seed_only:
        print(f"seeded at {result['raw_store_insert']['per_s']:.0f} customers/s")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    data = {**result, "customers": args.customers, "lookup_plan": plan}
    (args.out / "customers.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "customers.md").write_text(report(result, args, plan))
    print(report(result, args, plan))


if __name__ == "__main__":
    main()
