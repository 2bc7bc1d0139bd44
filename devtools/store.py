"""The local store: secantusd-rs, SecantusDB's Rust server, built once from crates.io and cached."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devtools.procs import ServerError, ServerProcess, free_port, mongo_ready, port_open

# The one pin of the local store (crates.io: secantus-mdb); a new version builds into its own dir.
VERSION = "0.5.3-beta.196"
CRATE, BINARY = "secantus-mdb", "secantusd-rs"
CACHE_ENV = "HANOUT_CACHE_DIR"
TOOLS = ("cargo", "cmake", "gcc")
# Full LTO takes ~13.5 min on 2 cores instead of ~5 for about 10% more upserts/s, same latencies.
BUILD_PROFILE = {"CARGO_PROFILE_RELEASE_LTO": "false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16"}


def user_cache() -> Path:
    """Shared by every clone: `$HANOUT_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/hanout`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hanout"


def binary_home(cache: Path | None = None) -> Path:
    return (cache or user_cache()) / BINARY / VERSION


def ensure_binary(cache: Path | None = None) -> Path:
    """The server's binary, built with `cargo install` into `<cache>/secantusd-rs/<version>/bin`
    on first use (one process builds, others wait for it)."""
    home = binary_home(cache)
    binary = home / "bin" / BINARY
    if _usable(binary):
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with _exclusive(home / ".lock"):
        if not _usable(binary):
            _build_into(home, binary)
    return binary


def _usable(binary: Path) -> bool:
    # The binary is moved into place only once its build is complete.
    return binary.is_file() and os.access(binary, os.X_OK)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"waiting for another process building {BINARY} {VERSION} ({path.parent})…")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _build_into(home: Path, binary: Path) -> None:
    missing = missing_tools()
    if missing:
        raise ServerError(
            f"cannot build the local store {BINARY} {VERSION}: {', '.join(missing)} not on PATH "
            "(it needs cargo, cmake and gcc: https://rustup.rs, Debian: apt-get install cmake gcc)"
        )
    _say(f"building the local store {BINARY} {VERSION} from crates.io (about 5 min, once)…")
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=home))
    log, started = home / "build.log", time.monotonic()
    try:
        cmd = _cargo_install(staging)
        with log.open("w") as out:
            code = _run_logged(cmd, out)
        built = staging / "bin" / BINARY
        if code != 0 or not built.is_file():
            raise ServerError(
                f"building {BINARY} {VERSION} failed (exit {code}); is crates.io reachable?\n"
                f"$ {_shown(cmd)}\n--- tail of {log} ---\n{_tail(log)}"
            )
        binary.parent.mkdir(exist_ok=True)
        built.replace(binary)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _say(f"built {binary} in {_minutes(time.monotonic() - started)}")


def _cargo_install(staging: Path) -> list[str]:
    # A prerelease is installed only when named; it declares a newer rust than it needs.
    return ["cargo", "install", CRATE, "--version", VERSION, "--locked", "--ignore-rust-version",
            "--color", "never", "--root", str(staging),
            "--target-dir", str(staging / "target")]  # fmt: skip


def _run_logged(cmd: list[str], out: IO[str]) -> int:
    env = {**os.environ, **BUILD_PROFILE}
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
    return done.returncode


def _shown(cmd: list[str]) -> str:
    return " ".join([*(f"{key}={value}" for key, value in BUILD_PROFILE.items()), *cmd])


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


@dataclass(frozen=True)
class StoreSettings:
    """How a local store runs: WiredTiger's cache size, and an fsync at every commit or not."""

    cache_size: str
    sync_on_commit: bool = False


# make dev keeps a shop's data: without the fsync, a SIGKILL lost ~500 acknowledged inserts.
# Tests and benchmarks start from nothing, so they keep the speed. (WiredTiger's default: 4G.)
DEV = StoreSettings("1G", sync_on_commit=True)
TEST = StoreSettings("512M")
BENCH = StoreSettings("1G")


class SecantusServer(ServerProcess):
    """secantusd-rs on `port` (default: a free one), a single-node replica set, ready when it
    answers `ping`; restartable on the same data dir and port. Without `data_dir` it uses a
    temporary one, removed by `close()`. The binary is built on the first start if missing."""

    ready_timeout = 30.0

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        port: int | None = None,
        settings: StoreSettings = TEST,
        cache: Path | None = None,
    ) -> None:
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hanout-secantusd-"))
        self.port = port or free_port()
        self.settings, self._cache = settings, cache
        scratch = None if data_dir else self.data_dir
        log = self.data_dir / "secantusd.log"
        super().__init__(f"{BINARY} on {self.url}", log, scratch_dir=scratch)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def ready(self) -> bool:
        return port_open(self.port) and mongo_ready(self.url)

    def command(self) -> list[str]:
        binary = ensure_binary(self._cache)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # An explicit (empty) config stops the server from picking up ./ or ~/ secantusd.toml.
        config = self.data_dir / "secantusd.toml"
        config.touch()
        cmd = [str(binary), "--config", str(config), "--host", "127.0.0.1",
               "--port", str(self.port), "--storage-path", str(self.data_dir / "data"),
               "--cache-size", self.settings.cache_size, "--log-level", "WARNING"]  # fmt: skip
        return cmd + (["--sync-on-commit"] if self.settings.sync_on_commit else [])
