"""The report of one `make bench`: per store, headline figures and processes (JSON, markdown)."""

from __future__ import annotations

import math
import re
from typing import Any

from bench.figure import FULL_CUSTOMERS, Figure
from bench.figures import figures

README_START = "<!-- bench:start (written by `python -m bench.report --readme`) -->"
README_END = "<!-- bench:end -->"
TIMED_OUT = 124  # the exit code of timeout(1)
OUTCOMES = {0: "", TIMED_OUT: " (timed out)"}


def sizes(args: list[str]) -> dict[str, Any]:
    """The sizes a module was run at that its JSON does not carry (its defaults otherwise)."""
    found: dict[str, Any] = {"customers": FULL_CUSTOMERS}
    if "--customers" in args:
        found["customers"] = int(args[args.index("--customers") + 1])
    return found


def store_summary(modules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Figures and missing keys of one store's module runs (each: args, exit, result, ...)."""
    found: list[Figure] = []
    missing: list[str] = []
    for name, run in modules.items():
        if run.get("result") is None:
            missing.append(f"{name}: no result (exit {run.get('exit')})")
            continue
        module_figures, lacking = figures(name, run["result"], sizes(run.get("args", [])))
        found += module_figures
        missing += lacking
    return {"figures": [figure.as_dict() for figure in found], "missing": missing}


def build(when: str, quick: bool, stores: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "when": when,
        "quick": quick,
        "stores": {
            store: {"modules": modules} | store_summary(modules)
            for store, modules in stores.items()
        },
    }


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    shown = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{shown} {unit}".strip()


def ratio(figure: dict[str, Any]) -> str:
    if figure["ratio"] is None:
        return "—"
    if figure["unit"] == "ms":
        return f"{figure['ratio']:.1f}× floor"
    return f"{figure['ratio']:.0%} of ceiling"


def goal(figure: dict[str, Any]) -> str:
    spec = figure["goal"]
    if not spec:
        return "—"
    sign = "≥" if spec["op"] == ">=" else "≤"
    return f"{sign} {spec['threshold']:,.0f} {figure['unit']} {spec['condition']}".strip()


def figure_rows(figures_: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| figure (median) | value | measured at | ceiling, same run | ratio | goal | status |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for f in figures_:
        ceiling = (
            f"{number(f['ceiling'], f['unit'])} ({f['ceiling_name']})" if f["ceiling"] else "—"
        )
        lines.append(
            f"| {f['name']} | {number(f['value'], f['unit'])} | {f['at'] or '—'} | {ceiling} | "
            f"{ratio(f)} | {goal(f)} | {f['status'] or '—'} |"
        )
    return lines


def process_rows(modules: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| benchmark | process | count | CPU % (one core = 100) | peak RSS MB | mean RSS MB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, run in modules.items():
        for p in run.get("processes", []):
            lines.append(
                f"| {name} | {p['role']} | {p['processes']} | {p['cpu_percent']:.0f} | "
                f"{p['rss_peak_mb']:.0f} | {p['rss_mean_mb']:.0f} |"
            )
    return lines


def store_section(store: str, part: dict[str, Any]) -> list[str]:
    runs = ", ".join(
        f"{name} {run.get('seconds', 0):.0f} s{OUTCOMES.get(run.get('exit'), ' (failed)')}"
        for name, run in part["modules"].items()
    )
    lines = [f"### Store: {store}", "", f"Runs: {runs}.", "", *figure_rows(part["figures"]), ""]
    lines += ["CPU and memory of every process over each benchmark:", ""]
    lines += [*process_rows(part["modules"]), ""]
    if part["missing"]:
        lines += ["Missing from the benchmarks' output: " + "; ".join(part["missing"]) + ".", ""]
    return lines


def markdown(report: dict[str, Any]) -> str:
    size = "quick: tiny sizes, a smoke run, not the goals' sizes" if report["quick"] else "full"
    lines = [
        f"Benchmarks of {report['when']} ({size}). Every figure is the median of several runs, "
        "beside a ceiling measured in the same run: a throughput as a share of its ceiling, a "
        "latency as a multiple of its floor. Kafka and the store are shared by the whole run, so "
        "their CPU covers every client of the moment.",
        "",
    ]
    for store, part in report["stores"].items():
        lines += store_section(store, part)
    return "\n".join(lines)


def with_readme_block(readme: str, table: str) -> str:
    """The README with the text between the bench markers replaced by `table`."""
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(readme):
        raise ValueError("README.md has no bench markers in its Performance section")
    block = f"{README_START}\n\n{table.strip()}\n\n{README_END}"
    return pattern.sub(lambda _: block, readme)


def finite(node: Any) -> Any:
    """The report with NaN (a percentile of no sample) as null: strict JSON."""
    if isinstance(node, dict):
        return {key: finite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [finite(value) for value in node]
    return None if isinstance(node, float) and math.isnan(node) else node
