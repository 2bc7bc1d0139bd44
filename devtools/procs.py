"""Server processes: free ports, start with a log, poll until ready, stop gently then firmly."""

from __future__ import annotations

import asyncio
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from pymongo import MongoClient
from pymongo.errors import PyMongoError

T = TypeVar("T")

Process = subprocess.Popen[bytes]


class ServerError(RuntimeError):
    """A local server could not be fetched, started or reached."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def http_ready(url: str) -> bool:
    """The readiness probe of every HTTP server here: GET `url` (`/readyz`, `/healthz`) is 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return False


def mongo_ready(url: str) -> bool:
    """The readiness probe of a MongoDB-compatible server: it answers `ping`."""
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


def start_process(
    cmd: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Process:
    """Start `cmd` in its own session (a terminal Ctrl-C reaches us, not it), output to a log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=None if env is None else dict(env),
            start_new_session=True,
        )


def _signal_group(proc: Process, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(proc: Process, timeout: float) -> bool:
    """Wait for exit without reaping, so the group id cannot be reused while we signal it."""
    deadline = time.monotonic() + timeout
    while True:
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        if os.waitid(os.P_PID, proc.pid, flags) is not None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def stop_process(proc: Process, *, grace: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` seconds, and reap the process.

    With `grace=0` it is SIGKILL at once, as a crash would be.
    """
    if proc.poll() is not None:
        return
    if grace > 0:
        _signal_group(proc, signal.SIGTERM)
        _exited(proc, grace)
    # The leader if it outlived the grace period, and anything it left behind in its group.
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    proc: Process | None = None,
    logs: Sequence[Path] = (),
    interval: float = 0.2,
) -> float:
    """Poll `check` until it returns True; fail with the logs' tails on timeout or if `proc` dies.

    Returns the seconds it took.
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if check():
            return time.monotonic() - start
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"{what}: exited with code {proc.returncode}\n{_tails(logs)}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what}: not ready after {timeout:.0f} s\n{_tails(logs)}")
        time.sleep(interval)


def _tails(logs: Sequence[Path]) -> str:
    return "\n".join(f"--- tail of {path} ---\n{log_tail(path)}" for path in logs)


class ServerProcess:
    """One local server process, restartable: `start()` runs `command()` with its output in
    `log_file` and polls `ready()` until it passes, giving up at a deadline or when the process
    exits; `stop()` sends SIGTERM to its process group, then SIGKILL after a grace period.

    A subclass supplies `command()` (it may prepare files first) and `ready()`, and may supply
    `environment()`. `close()` also removes `scratch_dir` if there is one; as a context manager
    the server is started on entry and closed on exit.
    """

    ready_timeout = 60.0
    stop_grace = 10.0

    def __init__(self, what: str, log_file: Path, *, scratch_dir: Path | None = None) -> None:
        self.what, self.log_file, self.scratch_dir = what, log_file, scratch_dir
        self.proc: Process | None = None

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def environment(self) -> Mapping[str, str] | None:
        """The process's whole environment; None: this process's."""
        return None

    @property
    def logs(self) -> list[Path]:
        """The logs whose tails explain a failed start."""
        return [self.log_file]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def launch(self) -> None:
        """Start the process; `wait_ready()` waits for it (several can start side by side)."""
        if self.proc is not None:
            raise ServerError(f"{self.what} is already running")
        self.proc = start_process(self.command(), self.log_file, env=self.environment())

    def wait_ready(self, timeout: float | None = None) -> float:
        """Poll `ready()`; the seconds it took. A process that does not get ready is stopped."""
        try:
            return wait_until(
                self.ready,
                what=self.what,
                timeout=self.ready_timeout if timeout is None else timeout,
                proc=self.proc,
                logs=self.logs,
            )
        except BaseException:
            self.stop()
            raise

    def start(self, timeout: float | None = None) -> float:
        """Launch and wait until ready; the seconds from launch to ready."""
        self.launch()
        return self.wait_ready(timeout)

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM, then SIGKILL after `grace` s (default `stop_grace`; 0: at once, as a crash)."""
        if self.proc is not None:
            stop_process(self.proc, grace=self.stop_grace if grace is None else grace)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown."""
        self.stop(grace=0.0)

    def restart(self, timeout: float | None = None) -> float:
        """Stop (if running) and start again; the seconds until it is ready."""
        self.stop()
        self.launch()
        return self.wait_ready(timeout)

    def close(self) -> None:
        self.stop()
        if self.scratch_dir is not None:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.launch()
            self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="devtools-probe")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
