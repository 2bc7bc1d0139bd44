"""`make bench`: every benchmark on the store, with CPU/memory per process, in one report.

The broker and the local store (secantusd-rs, without an fsync per commit) are started once, or
taken from KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL; then each benchmark module runs as a
subprocess on them while psutil samples every process of the run. Writes
bench/results/<UTC date>.json and .md (`-quick` for --quick runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procstats import Sampler, listeners, stop_tree, url_port
from bench.summary import TIMED_OUT, build, finite, markdown, with_readme_block
from devtools.procs import log_tail, start_process
from devtools.stack import Stack, running_stack
from devtools.store import BENCH, BINARY

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
# Full size is each module's defaults; quick is a smoke run of a few seconds each.
MODULES: dict[str, list[str]] = {
    "ingest": ["--rates", "200,1000", "--seconds", "1", "--runs", "2", "--connections", "16"]
    + ["--workers", "1,2", "--max-seconds", "1"],
    "customers": ["--customers", "2000", "--lookups", "200", "--import-rows", "500"]
    + ["--concurrency", "4", "--runs", "2"],
    "orders": ["--size", "100", "--concurrency", "4", "--runs", "2"],
    "inbox": ["--rates", "10", "--seconds", "1", "--runs", "2", "--conversations", "1000"]
    + ["--samples", "20"],
    "inbox_live": ["--rates", "100", "--e2e-rates", "10", "--seconds", "1", "--runs", "2"]
    + ["--clients", "5", "--samples", "20", "--intake-messages", "200"],
    "inbox_batch": ["--messages", "100", "--runs", "2"],
    "campaign": ["--sends", "100", "--replies", "30", "--spread", "10", "--runs", "2"]
    + ["--samples", "20", "--grace", "60"],
}
# The report the Speed work started from: each figure's `before` column.
BEFORE = RESULTS / "2026-11-22.json"
# The stores a report is keyed by: one now (the local store, or the one MONGODB_URL names).
STORES = (BINARY,)
QUICK_TIMEOUT = 900.0


def run_module(
    name: str, args: list[str], stack: Stack, store: str, logs: Path, timeout: float | None
) -> dict[str, Any]:
    """One benchmark as a subprocess on the stack, sampled; its JSON result when it wrote one."""
    env = {**os.environ, **stack.env()}
    ports = {url_port(stack.kafka_bootstrap_servers): "kafka", url_port(stack.mongodb_url): "store"}
    fixed = listeners({port: role for port, role in ports.items() if port is not None})
    command, output = [sys.executable, "-m", f"bench.{name}", *args], RESULTS / f"{name}.json"
    if accepts_out(command):
        # Its own folder: another run of the same benchmark cannot overwrite what this one reads.
        output = logs / store / f"{name}.json"
        command += ["--out", str(output.parent)]
    log, started = logs / f"{store}-{name}.log", time.time()
    proc = start_process(command, log, env=env, cwd=ROOT)
    with Sampler(proc.pid, fixed) as sampler:
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = TIMED_OUT
        finally:
            stop_tree(proc)
    fresh = output.exists() and output.stat().st_mtime >= started and code == 0
    return {
        "args": args,
        "exit": code,
        "seconds": time.time() - started,
        "result": json.loads(output.read_text()) if fresh else None,
        "processes": sampler.summary(),
        "log_tail": "" if code == 0 else log_tail(log),
    }


def accepts_out(command: list[str]) -> bool:
    usage = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=ROOT)
    return "--out" in usage.stdout


def describe(code: int) -> str:
    return "timed out" if code == TIMED_OUT else f"exited {code}"


def failures(runs: dict[str, dict[str, Any]]) -> list[str]:
    """`store/benchmark: last log lines` of every run that did not exit cleanly."""
    return [
        f"{store}/{name} {describe(run['exit'])}:\n{run['log_tail']}"
        for store, part in runs.items()
        for name, run in part.items()
        if run["exit"]
    ]


def run_store(store: str, names: list[str], args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    timeout = args.timeout or (QUICK_TIMEOUT if args.quick else None)
    with running_stack(store_settings=BENCH) as stack:
        return {
            name: run_module(name, module_args(name, args), stack, store, logs, timeout)
            for name in names
        }


def module_args(name: str, args: argparse.Namespace) -> list[str]:
    """`--args name=...` when given, else the quick sizes for --quick, else the module's own."""
    given = dict(item.split("=", 1) for item in args.args)
    if name in given:
        return shlex.split(given[name])
    return MODULES[name] if args.quick else []


def write(report: dict[str, Any], stem: str, readme: bool) -> str:
    table = markdown(report, json.loads(BEFORE.read_text()) if BEFORE.exists() else None)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(finite(report), indent=2, default=str) + "\n")
    (RESULTS / f"{stem}.md").write_text(f"# Benchmarks\n\n{table}\n")
    if readme:
        README.write_text(with_readme_block(README.read_text(), table))
    return table


def saved_modules(path: Path) -> dict[str, dict[str, Any]]:
    """Each store's benchmark runs in a saved report (none when there is no such file)."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    return {store: part["modules"] for store, part in saved["stores"].items()}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated")
    parser.add_argument("--only", default=",".join(MODULES), help="benchmarks, comma-separated")
    parser.add_argument("--readme", action="store_true", help="rewrite README's Performance table")
    parser.add_argument("--timeout", type=float, help="s per benchmark (quick: 900, else none)")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="one benchmark's own arguments, e.g. --args 'ingest=--runs 5' (repeatable)",
    )
    parser.add_argument(
        "--merge", action="store_true", help="keep the other benchmarks of today's saved report"
    )
    parser.add_argument("--from", dest="source", type=Path, help="re-render a report's JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.source:
        saved = json.loads(args.source.read_text())
        report = build(saved["when"], saved["quick"], saved_modules(args.source))
        sys.stdout.write(write(report, args.source.stem, args.readme) + "\n")
        return 0
    stores, names = args.stores.split(","), args.only.split(",")
    unknown = sorted(set(stores) - set(STORES)) + sorted(set(names) - set(MODULES))
    if unknown:
        raise SystemExit(f"unknown store or benchmark: {', '.join(unknown)}")
    now, runs, fresh, table = datetime.now(UTC), {}, dict[str, dict[str, Any]](), ""
    stem = f"{now:%Y-%m-%d}" + ("-quick" if args.quick else "")
    earlier = saved_modules(RESULTS / f"{stem}.json") if args.merge else {}
    with tempfile.TemporaryDirectory() as logs:
        for store in stores:
            fresh[store] = run_store(store, names, args, Path(logs))
            runs[store] = earlier.pop(store, {}) | fresh[store]
            # Written after each store: an interrupted run keeps what it measured.
            report = build(now.isoformat(timespec="seconds"), args.quick, earlier | runs)
            table = write(report, stem, args.readme and store == stores[-1])
    sys.stdout.write(table + "\n")
    failed = failures(fresh)
    sys.stderr.write("".join(f"\n{failure}\n" for failure in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
