"""Server processes: free ports, start with a log, stop gently then firmly, poll until ready."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

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
