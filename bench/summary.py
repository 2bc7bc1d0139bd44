"""The report of one `make bench`: per store, headline figures and processes (JSON, markdown)."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from bench.figure import FULL_CUSTOMERS, FULL_IMPORT_ROWS, LOWER_IS_BETTER, Figure
from bench.figures import figures

README_START = "<!-- bench:start (written by `python -m bench.report --readme`) -->"
README_END = "<!-- bench:end -->"
TIMED_OUT = 124  # the exit code of timeout(1)
OUTCOMES = {0: "", TIMED_OUT: " (timed out)"}


def sizes(args: list[str]) -> dict[str, Any]:
    """The sizes a module was run at that its JSON does not carry (its defaults otherwise)."""
    found: dict[str, Any] = {"customers": FULL_CUSTOMERS, "import_rows": FULL_IMPORT_ROWS}
    for flag, size in (("--customers", "customers"), ("--import-rows", "import_rows")):
        if flag in args:
            found[size] = int(args[args.index(flag) + 1])
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
        busiest = busiest_process(run.get("processes", []))
        found += [with_limit(figure, busiest) for figure in module_figures]
        missing += lacking
    return {"figures": [figure.as_dict() for figure in found], "missing": missing}


def busiest_process(processes: list[dict[str, Any]]) -> str:
    top = max(processes, key=lambda p: p.get("cpu_percent", 0.0), default=None)
    return f"busiest: {top['role']}, {top['cpu_percent']:.0f}% of a core" if top else ""


def with_limit(figure: Figure, busiest: str) -> Figure:
    """The figure with what limits it: the module's own words, else what its ratio to the
    same-run ceiling says; and the busiest process of its run."""
    said = (figure.limit or judged_limit(figure)).rstrip(".")
    return dataclasses.replace(figure, limit="; ".join(filter(None, [said, busiest])))


def judged_limit(figure: Figure) -> str:
    if figure.ratio is None:
        return ""
    if figure.unit in LOWER_IS_BETTER:
        if figure.ratio <= 2:
            return f"its floor ({figure.ceiling_name})"
        return f"the service's own work above its floor ({figure.ceiling_name})"
    if figure.ratio >= 0.8:
        return f"its ceiling ({figure.ceiling_name})"
    return f"the service's own work below its ceiling ({figure.ceiling_name})"


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
    if figure["unit"] in LOWER_IS_BETTER:
        return f"{figure['ratio']:.1f}× floor"
    return f"{figure['ratio']:.0%} of ceiling"


def goal(figure: dict[str, Any]) -> str:
    spec = figure["goal"]
    if not spec:
        return "—"
    sign = "≥" if spec["op"] == ">=" else "≤"
    return f"{sign} {spec['threshold']:,.0f} {figure['unit']} {spec['condition']}".strip()


def earlier(name: str, before: dict[str, dict[str, Any]]) -> str:
    """The same figure in the report of before (a query's name may differ in its parenthesis)."""
    found = before.get(name) or before.get(without_parenthesis(name))
    return number(found["value"], found["unit"]) if found else "—"


def figure_rows(figures_: list[dict[str, Any]], before: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| figure (median) | value | before | measured at | ceiling, same run | ratio | goal "
        "| status | what limits it |",
        "|---|---:|---:|---|---:|---:|---|---|---|",
    ]
    for f in figures_:
        ceiling = (
            f"{number(f['ceiling'], f['unit'])} ({f['ceiling_name']})" if f["ceiling"] else "—"
        )
        lines.append(
            f"| {f['name']} | {number(f['value'], f['unit'])} | {earlier(f['name'], before)} | "
            f"{f['at'] or '—'} | {ceiling} | {ratio(f)} | {goal(f)} | {f['status'] or '—'} | "
            f"{f.get('limit') or '—'} |"
        )
    return lines


def before_figures(report: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each figure of an earlier report's first store, by name (by name without its
    parenthesis too)."""
    if not report or not report.get("stores"):
        return {}
    first = next(iter(report["stores"].values()))
    found: dict[str, dict[str, Any]] = {}
    for figure in first.get("figures", []):
        found.setdefault(without_parenthesis(figure["name"]), figure)
        found[figure["name"]] = figure
    return found


def without_parenthesis(name: str) -> str:
    """`slowest list query p99 (name)` -> `slowest list query p99`: what a query names is a
    detail; a parenthesis inside a name (`..., 2 workers`) is not."""
    return re.sub(r" \([^)]*\)$", "", name)


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


def store_section(store: str, part: dict[str, Any], before: dict[str, dict[str, Any]]) -> list[str]:
    runs = ", ".join(
        f"{name} {run.get('seconds', 0):.0f} s{OUTCOMES.get(run.get('exit'), ' (failed)')}"
        for name, run in part["modules"].items()
    )
    lines = [f"### Store: {store}", "", f"Runs: {runs}.", ""]
    lines += [*figure_rows(part["figures"], before), ""]
    lines += ["CPU and memory of every process over each benchmark:", ""]
    lines += [*process_rows(part["modules"]), ""]
    if part["missing"]:
        lines += ["Missing from the benchmarks' output: " + "; ".join(part["missing"]) + ".", ""]
    return lines


def markdown(report: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    """The report's tables; `before`, an earlier report, gives each figure's earlier value."""
    size = "quick: tiny sizes, a smoke run, not the goals' sizes" if report["quick"] else "full"
    lines = [
        f"Benchmarks of {report['when']} ({size}). Every figure is the median of several runs, "
        "beside a ceiling measured in the same run: a throughput as a share of its ceiling, a "
        "latency as a multiple of its floor. Kafka and the store are shared by the whole run, so "
        "their CPU covers every client of the moment."
        + (f" `before`: the same figure on {before['when'][:10]}." if before else ""),
        "",
    ]
    earlier_figures = before_figures(before)
    for store, part in report["stores"].items():
        lines += store_section(store, part, earlier_figures)
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
