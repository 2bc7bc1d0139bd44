"""deploy/nginx.conf run by a real nginx (skipped when the machine has none): the security
headers on every answer, an upstream's sandbox kept, /api/<unknown> a JSON 404."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devtools.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"ingest": 8001, "inbox": 8002, "customers": 8003, "orders": 8004}
MIME_TYPES = "types { text/html html; application/javascript js; text/css css; }\n"


def _nginx() -> str | None:
    """NGINX=<path>, else the one `make install` unpacks into .cache, else the system's."""
    unpacked = ROOT / ".cache" / "nginx" / "usr" / "sbin" / "nginx"
    found = os.environ.get("NGINX") or (str(unpacked) if unpacked.exists() else None)
    found = found or shutil.which("nginx")
    return found or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


async def _upstream(request: Request) -> Response:
    if request.url.path == "/media":
        headers = {"Content-Security-Policy": "default-src 'none'; sandbox"}
        return Response(b"<svg onload=alert(1)>", media_type="image/svg+xml", headers=headers)
    return JSONResponse({"path": request.scope["path"], "query": request.url.query})


def _config(tmp: Path, port: int, upstream: int) -> Path:
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text = text.replace("user nginx;", "user root;" if os.geteuid() == 0 else "")
    text = text.replace("/var/run/nginx.pid", str(tmp / "nginx.pid"))
    text = text.replace("error_log /dev/stderr warn;", f"error_log {tmp / 'error.log'} warn;")
    text = text.replace("access_log /dev/stdout main;", "access_log off;")
    mime = Path("/etc/nginx/mime.types")
    if not mime.exists():
        mime = tmp / "mime.types"
        mime.write_text(MIME_TYPES)
    text = text.replace("include /etc/nginx/mime.types;", f"include {mime};")
    for name, service_port in SERVICES.items():
        text = text.replace(f"server {name}:{service_port};", f"server 127.0.0.1:{upstream};")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    text = text.replace("root /usr/share/nginx/html;", f"root {tmp / 'html'};")
    temp = [f"{kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                          "uwsgi", "scgi")]  # fmt: skip
    text = text.replace("http {", "http {\n    " + "\n    ".join(temp), 1)
    assert "8001" not in text and "8080" not in text, "the test no longer rewrites every address"
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _nginx()
    if binary is None:
        pytest.skip("no nginx on this machine (make nginx, or NGINX=<path>)")
    tmp = tmp_path_factory.mktemp("nginx")
    (tmp / "html" / "assets").mkdir(parents=True)
    (tmp / "html" / "index.html").write_text("<!doctype html><title>Hanout</title>")
    (tmp / "html" / "assets" / "app-1.js").write_text("console.log(1)")
    upstream_port, port = free_port(), free_port()
    routes = [Route("/{p:path}", _upstream, methods=["GET", "POST"])]
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), port=upstream_port,
                                           host="127.0.0.1", log_level="warning"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    config = _config(tmp, port, upstream_port)
    command = [binary, "-p", str(tmp), "-c", str(config), "-g", "daemon off;"]
    nginx = subprocess.Popen(command, stderr=(tmp / "stderr.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                assert nginx.poll() is None, (tmp / "stderr.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield url
    finally:
        nginx.terminate()
        nginx.wait(10)
        server.should_exit = True


PAGES = ["/", "/conversations/42", "/index.html", "/assets/app-1.js", "/assets/missing.js",
         "/healthz", "/api/orders/orders", "/api/nosuch/x"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(gateway: str, path: str) -> None:
    headers = httpx.get(f"{gateway}{path}").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_an_upstream_sandbox_policy_is_kept_alone(gateway: str) -> None:
    answer = httpx.get(f"{gateway}/api/ingest/media")
    assert answer.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]


@pytest.mark.parametrize("path", ["/api/nosuch/x", "/api/", "/api", "/api/ordersx/orders"])
def test_an_unknown_api_path_is_a_json_404_not_the_app(gateway: str, path: str) -> None:
    answer = httpx.get(f"{gateway}{path}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_a_null_byte_is_refused_not_served(gateway: str) -> None:
    answer = httpx.get(f"{gateway}/index.html%00.js")
    assert answer.status_code in (400, 404)
    assert not re.search(r"<title>Hanout", answer.text)


def test_an_encoded_character_in_an_api_path_stays_in_the_path(gateway: str) -> None:
    answer = httpx.get(f"{gateway}/api/ingest/channels/1/media/me%3Ffields=id,name")
    assert answer.json() == {"path": "/channels/1/media/me?fields=id,name", "query": ""}
