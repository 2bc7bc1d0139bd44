"""A local MongoDB-compatible store: the SecantusDB daemon, on WiredTiger files."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devtools.procs import (
    Process,
    ServerError,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_until,
)

READY_TIMEOUT = 30.0
# The daemon does not exit promptly on SIGTERM when clients are connected.
STOP_GRACE = 5.0


def _daemon() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    found = str(beside_python) if beside_python.is_file() else shutil.which("secantusd-py")
    if found is None:
        raise ServerError("secantusd-py not found: run `uv sync` (it is in the dev group)")
    return found


def _pings(url: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


class SecantusServer:
    """One SecantusDB daemon; restartable on the same data dir and port.

    Without `data_dir` it uses a temporary one, removed by `close()`; without `port` it picks a
    free one.
    """

    def __init__(self, data_dir: Path | None = None, *, port: int | None = None) -> None:
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hanout-store-"))
        self.port = port or free_port()
        self._proc: Process | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "secantusd.log"

    def start(self) -> float:
        """Start the daemon and block until it answers `ping`; return the seconds it took."""
        if self._proc is not None:
            raise ServerError("SecantusDB is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # An explicit (empty) config stops the daemon from picking up ./ or ~/ secantusd.toml.
        config = self.data_dir / "secantusd.toml"
        config.touch()
        cmd = [_daemon(), "--config", str(config), "--host", "127.0.0.1",
               "--port", str(self.port), "--storage-path", str(self.data_dir / "data")]  # fmt: skip
        self._proc = start_process(cmd, self.log_file)
        try:
            return wait_until(
                lambda: port_open(self.port) and _pings(self.url),
                what=f"SecantusDB on {self.url}",
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

    def __enter__(self) -> SecantusServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
