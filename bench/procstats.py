"""CPU and memory of every process of a benchmark run, sampled with psutil and labelled by role."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psutil

from devtools.procs import Process, stop_process

# The first marker found in a process's command line (or its nearest ancestor's) names its role.
ROLE_MARKERS = {
    "ingest.app": "ingest",
    "inbox.app": "inbox",
    "customers.app": "customers",
    "orders.app": "orders",
    "simulator": "simulator",
}
GENERATOR = "load generator"
MB = 1024 * 1024


def url_port(url: str) -> int | None:
    """The port of a bootstrap list's first server or of a MongoDB URL."""
    first = url.split(",")[0]
    return urlsplit(first if "//" in first else f"//{first}").port


def listeners(ports: dict[int, str]) -> dict[int, str]:
    """Pids of the processes listening on the given ports (Kafka, the store), with their role."""
    found = {}
    for conn in psutil.net_connections(kind="tcp"):
        port = conn.laddr.port if conn.laddr else None
        if conn.status == psutil.CONN_LISTEN and conn.pid and port in ports:
            found[conn.pid] = ports[port]
    return found


def role_of(proc: psutil.Process, root: int) -> str:
    """A service's role for it or its workers, else the benchmark process's own: the generator."""
    try:
        for candidate in [proc, *proc.parents()]:
            command = " ".join(candidate.cmdline())
            for marker, role in ROLE_MARKERS.items():
                if marker in command:
                    return role
            if candidate.pid == root:
                return GENERATOR
    except psutil.Error:
        pass
    return "other"


@dataclass
class Tracked:
    role: str
    proc: psutil.Process
    cpu_start: float
    cpu_last: float = 0.0
    rss_peak: int = 0


@dataclass
class Sampler:
    """Samples, every `interval` s, the tree under `root` and the fixed (infrastructure) pids."""

    root: int
    fixed: dict[int, str]
    interval: float = 0.5
    tracked: dict[int, Tracked] = field(default_factory=dict)
    role_rss: list[dict[str, int]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    stopped: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self.started = time.monotonic()
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.stopped = time.monotonic()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _members(self) -> dict[int, str]:
        members = dict(self.fixed)
        try:
            root = psutil.Process(self.root)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return members
        for proc in tree:
            if proc.pid not in self.tracked:
                members[proc.pid] = role_of(proc, self.root)
            else:
                members[proc.pid] = self.tracked[proc.pid].role
        return members

    def _sample(self) -> None:
        rss: dict[str, int] = {}
        for pid, role in self._members().items():
            try:
                item = self.tracked.get(pid) or self._track(pid, role)
                with item.proc.oneshot():
                    times, memory = item.proc.cpu_times(), item.proc.memory_info().rss
            except psutil.Error:
                continue
            item.cpu_last = times.user + times.system
            item.rss_peak = max(item.rss_peak, memory)
            rss[role] = rss.get(role, 0) + memory
        self.role_rss.append(rss)

    def _track(self, pid: int, role: str) -> Tracked:
        proc = psutil.Process(pid)
        times = proc.cpu_times()
        # A process born during the run is counted from zero, not from its first sample.
        born_here = proc.create_time() >= time.time() - (time.monotonic() - self.started)
        start = 0.0 if born_here else times.user + times.system
        self.tracked[pid] = Tracked(role, proc, start)
        return self.tracked[pid]

    def summary(self) -> list[dict[str, Any]]:
        """Per role: processes, CPU % of one core over the run, peak and mean RSS (MB)."""
        wall = max((self.stopped or time.monotonic()) - self.started, 1e-9)
        rows = []
        for role in sorted({item.role for item in self.tracked.values()}):
            items = [item for item in self.tracked.values() if item.role == role]
            totals = [sample[role] for sample in self.role_rss if role in sample]
            cpu = sum(item.cpu_last - item.cpu_start for item in items)
            rows.append(
                {
                    "role": role,
                    "processes": len(items),
                    "cpu_s": cpu,
                    "cpu_percent": 100 * cpu / wall,
                    "rss_peak_mb": max(totals, default=0) / MB,
                    "rss_mean_mb": sum(totals) / len(totals) / MB if totals else 0.0,
                }
            )
        return rows


def stop_tree(proc: Process) -> None:
    """Stop a benchmark and the services it started in their own sessions (on a timeout)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    stop_process(proc)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    for child in psutil.wait_procs(children, timeout=10)[1]:
        with contextlib.suppress(psutil.Error):
            child.kill()
