"""A second local MongoDB-compatible store: FerretDB v1 on SQLite, built from infra/ferretdb."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devtools.jars import CACHE_DIR, ROOT
from devtools.procs import (
    Process,
    ServerError,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_until,
)

MODULE_DIR = ROOT / "infra" / "ferretdb"
BINARY = "hanout-ferretdb"
READY_TIMEOUT = 30.0
STOP_GRACE = 10.0
# PostgreSQL is FerretDB's other backend; leaving it out makes the build smaller and quicker.
BUILD_TAGS = "ferretdb_no_postgresql"


def ferretdb_version(module_dir: Path = MODULE_DIR) -> str:
    go_mod = (module_dir / "go.mod").read_text()
    found = re.search(r"^\s*(?:require\s+)?github\.com/FerretDB/FerretDB\s+(v\S+)", go_mod, re.M)
    if found is None:
        raise ServerError(f"{module_dir / 'go.mod'} does not require github.com/FerretDB/FerretDB")
    return found.group(1)


def _sources_hash(module_dir: Path) -> str:
    digest = hashlib.sha256(BUILD_TAGS.encode())
    for path in sorted([module_dir / "go.mod", module_dir / "go.sum", *module_dir.glob("*.go")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_binary(cache_dir: Path = CACHE_DIR, module_dir: Path = MODULE_DIR) -> Path:
    """Build the server into `<cache_dir>/ferretdb/<version>/` once; return the binary's path."""
    home = cache_dir / "ferretdb" / ferretdb_version(module_dir)
    binary, marker = home / BINARY, home / "complete.sha256"
    sources = _sources_hash(module_dir)
    if _is_complete(binary, marker, sources):
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building right now
        if not _is_complete(binary, marker, sources):
            _build_into(binary, module_dir)
            marker.write_text(sources + "\n")
    return binary


def _is_complete(binary: Path, marker: Path, sources: str) -> bool:
    return binary.is_file() and marker.is_file() and marker.read_text().strip() == sources


def _build_into(binary: Path, module_dir: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise ServerError(
            "Go (`go`) is not on PATH; FerretDB is built from infra/ferretdb with Go >= 1.24 "
            "(https://go.dev/doc/install, or Debian: apt-get install golang-go)"
        )
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=binary.parent))
    try:
        out = staging / BINARY
        cmd = [go, "build", "-trimpath", "-mod=readonly", "-tags", BUILD_TAGS, "-o", str(out), "."]
        # No cgo: the SQLite driver is pure Go, so no C compiler is needed.
        env = {**os.environ, "CGO_ENABLED": "0"}
        done = subprocess.run(
            cmd, cwd=module_dir, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not out.is_file():
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise ServerError(
                f"`go build` of FerretDB failed (exit {done.returncode}). Is the Go module proxy "
                f"reachable (GOPROXY, GOFLAGS)?\n$ (cd {module_dir} && {' '.join(cmd)})\n{tail}"
            )
        out.replace(binary)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pings(url: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


class FerretServer:
    """One FerretDB server on SQLite files; restartable on the same data dir and port.

    Without `data_dir` it uses a temporary one, removed by `close()`; without `port` it picks a
    free one. The binary is built on the first `start()` and cached.
    """

    def __init__(
        self, data_dir: Path | None = None, *, port: int | None = None, cache_dir: Path = CACHE_DIR
    ) -> None:
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hanout-ferretdb-"))
        self.port = port or free_port()
        self._cache_dir = cache_dir
        self._proc: Process | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "ferretdb.log"

    def start(self) -> float:
        """Start the server and block until it answers `ping`; return the seconds it took.

        A first build of the binary happens before and is not counted.
        """
        if self._proc is not None:
            raise ServerError("FerretDB is already running")
        binary = ensure_binary(self._cache_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(binary), "-host", "127.0.0.1", "-port", str(self.port),
               "-data-dir", str(self.data_dir / "data"), "-log-level", "warn"]  # fmt: skip
        self._proc = start_process(cmd, self.log_file)
        try:
            return wait_until(
                lambda: port_open(self.port) and _pings(self.url),
                what=f"FerretDB on {self.url}",
                timeout=READY_TIMEOUT,
                proc=self._proc,
                logs=[self.log_file],
            )
        except BaseException:
            self.stop()
            raise

    def stop(self, *, grace: float = STOP_GRACE) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (0: at once, a crash). Data is kept."""
        if self._proc is not None:
            stop_process(self._proc, grace=grace)
            self._proc = None

    def close(self) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> FerretServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
