"""The web client in Debian's Chromium against `make dev`'s processes on the shared broker and
store: issue 8's journeys (web/e2e/*.test.mjs, run by node's test runner with playwright-core).
Screenshots of every step go to artifacts/screenshots/ (git-ignored)."""

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.seed import Seeder

from .stack import WebStack, node_env, web_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("HANOUT_CHROMIUM", "/usr/bin/chromium"))


def _not_installed() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make install` installs Debian's chromium"
    if not (WEB / "node_modules" / "playwright-core").is_dir() or not (WEB / "dist").is_dir():
        return "web/ is not installed and built: `make install` runs npm ci and npm run build"
    if shutil.which("node") is None:
        return "node is not on PATH"
    return None


def _templates_synced(stack: WebStack, seeder: Seeder) -> bool:
    number = stack.workspace.numbers[1].phone_number_id
    found = seeder.admin.call("GET", f"/api/inbox/channels/{number}/templates", ok=(404,))
    return bool(found.get("templates"))


def _wait(check: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


def _trouble(stack: WebStack) -> str:
    """What the processes logged that went wrong: warnings, errors and refused calls."""
    signs = re.compile(r'"level": "(warning|error|critical)"|Traceback|" [45]\d\d ')
    lines = [
        f"{log.name}: {line}"
        for log in sorted(stack.log_dir.glob("*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if signs.search(line)
    ]
    return "\n".join(lines[-60:]) or "no process logged a warning, an error or a refused call"


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebStack]:
    if reason := _not_installed():
        pytest.skip(reason)
    log_dir = Path(tmp_path_factory.mktemp("web-logs"))
    with web_stack(kafka_bootstrap_servers, mongodb_url, log_dir) as running:
        with httpx.Client(timeout=30) as client:
            seeder = Seeder(client, running.gateway_url, running.simulator_url, running.workspace)
            seeder.channels()
            seeder.templates()
            seeder.library()
            _wait(lambda: _templates_synced(running, seeder), "templates synced to the inbox")
        yield running


@pytest.mark.timeout(1500)  # a dozen journeys in a real browser on a shared, busy machine
def test_the_issue_journeys_pass_in_a_real_browser(stack: WebStack) -> None:
    result = subprocess.run(
        ["node", "--test", "--test-concurrency=1", "e2e/"],
        cwd=WEB,
        env=node_env(stack, SCREENSHOTS),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = f"{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"{output}\n{_trouble(stack)}"
    assert any(SCREENSHOTS.rglob("*.png")), "the journeys left no screenshot"
