"""A benchmark figure: its value beside the ceiling measured in the same run, and its goal."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

FULL_CUSTOMERS = 1_000_000
FULL_CONVERSATIONS = 100_000
FULL_IMPORT_ROWS = 100_000
GOAL_RATE = 1000.0
GOAL_STREAMS = 50
# A figure in these units is better lower: its ratio is a multiple of its floor.
LOWER_IS_BETTER = ("ms", "MB")


@dataclass(frozen=True)
class Goal:
    """`value <op> threshold`, only comparable when measured at the goal's condition."""

    op: str  # ">=" or "<="
    threshold: float
    condition: str


@dataclass(frozen=True)
class Figure:
    module: str
    name: str
    unit: str
    value: float | None
    ceiling: float | None = None
    ceiling_name: str = ""
    at: str = ""
    goal: Goal | None = None
    at_goal_size: bool = True
    limit: str = ""  # what limits it, in words: set by the module, else from the run's figures

    @property
    def ratio(self) -> float | None:
        """Figure over ceiling: a share of the ceiling's rate, or a multiple of its latency."""
        if self.value is None or not self.ceiling:
            return None
        return self.value / self.ceiling

    @property
    def status(self) -> str:
        """A goal is judged only where it is set: a latency met at a lower rate or a smaller
        store says nothing of the goal's."""
        if self.value is None:
            return "missing"
        if self.goal is None:
            return ""
        if not self.at_goal_size:
            return "not at goal size"
        if self.goal.op == ">=":
            met = self.value >= self.goal.threshold
        else:
            met = self.value <= self.goal.threshold
        return "met" if met else "not met"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio, "status": self.status}


class Reader:
    """Walks a module's JSON; every path it could not find is remembered, never raised."""

    def __init__(self, module: str, data: dict[str, Any]) -> None:
        self.module, self.data, self.missing = module, data, list[str]()

    def get(self, *path: str | int, node: Any = None) -> Any:
        node = self.data if node is None else node
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                self.missing.append(f"{self.module}.json: " + ".".join(map(str, path)))
                return None
        return node

    def number(self, *path: str | int, node: Any = None) -> float | None:
        value = self.get(*path, node=node)
        # NaN is what a percentile of nothing is: no sample arrived.
        return float(value) if isinstance(value, int | float) and not math.isnan(value) else None


def closest(rows: list[Any], rate: float, key: Callable[[Any], Any]) -> Any:
    """The row measured at the rate nearest `rate` (the goal's rate in a full run)."""
    return min(rows, key=lambda row: abs(float(key(row)) - rate)) if rows else None


def median_of(runs: list[dict[str, Any]], *path: str | int) -> float:
    """The median over runs of the value at `path` in each run's result."""
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        values.append(float(node))
    return statistics.median(values)
