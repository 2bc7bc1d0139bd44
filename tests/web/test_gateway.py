"""The development gateway routes like deploy/nginx.conf: prefixes stripped, the webhook's path and
bytes kept, Server-Sent Events unbuffered, the app shell for client routes, dev tokens."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from devtools.gateway import GatewayConfig, create_app
from devtools.procs import free_port
from devtools.seed_data import Roster, demo_workspace
from hanout_shared.platform.settings import DEV_JWT_SECRET


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({
        "path": request.url.path, "query": request.url.query, "method": request.method,
        "decoded_path": request.scope["path"],
        "body": body.decode(), "authorization": request.headers.get("authorization"),
        "prefix": request.headers.get("x-forwarded-prefix"),
        "correlation": request.headers.get("x-correlation-id"),
    })  # fmt: skip


async def sandboxed(_: Request) -> Response:
    headers = {"Content-Security-Policy": "default-src 'none'; sandbox"}
    return Response(b"<svg onload=alert(1)>", media_type="image/svg+xml", headers=headers)


async def events(_: Request) -> Response:
    async def stream() -> AsyncIterator[bytes]:
        yield b"id: 1\ndata: first\n\n"
        await asyncio.sleep(3)
        yield b"id: 2\ndata: second\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


def _serve(app: Starlette, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    routes = [Route("/stream", events), Route("/media", sandboxed),
              Route("/{p:path}", echo, methods=["GET", "POST", "PATCH"])]  # fmt: skip
    upstream = Starlette(routes=routes)
    up_port, gw_port = free_port(), free_port()
    dist = Path(tmp_path_factory.mktemp("dist"))
    (dist / "assets").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Hanout</title>")
    (dist / "assets" / "app-1234.js").write_text("console.log('hi')")
    (dist.parent / "secret.txt").write_text("not for the web")
    base = f"http://127.0.0.1:{up_port}"
    config = GatewayConfig(
        upstreams=dict.fromkeys(("ingest", "inbox", "customers", "orders"), base),
        dist=dist,
        roster=Roster(workspaces=[demo_workspace("ws-gw")]),
    )
    servers = [_serve(upstream, up_port), _serve(create_app(config), gw_port)]
    yield f"http://127.0.0.1:{gw_port}"
    for server in servers:
        server.should_exit = True


def test_an_api_call_reaches_its_service_without_the_prefix(gateway: str) -> None:
    answer = httpx.post(f"{gateway}/api/orders/orders?limit=2", content=b'{"a": 1}',
                        headers={"Authorization": "Bearer t"}).json()  # fmt: skip
    assert answer["path"] == "/orders"
    assert answer["query"] == "limit=2"
    assert answer["body"] == '{"a": 1}'
    assert answer["authorization"] == "Bearer t"
    assert answer["prefix"] == "/api/orders"
    assert answer["correlation"]


def test_the_webhook_keeps_its_path_and_exact_bytes(gateway: str) -> None:
    raw = b'{"object":"whatsapp_business_account",  "entry":[]}'
    answer = httpx.post(f"{gateway}/webhooks/whatsapp", content=raw).json()
    assert answer["path"] == "/webhooks/whatsapp"
    assert answer["body"].encode() == raw


def test_server_sent_events_arrive_before_the_stream_ends(gateway: str) -> None:
    started = time.monotonic()
    with httpx.stream("GET", f"{gateway}/api/inbox/stream", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        first = next(response.iter_lines())
        assert first == "id: 1"
        assert time.monotonic() - started < 2.5, "the first event waited for the second"


def test_client_routes_get_the_app_shell_and_assets_are_cached(gateway: str) -> None:
    shell = httpx.get(f"{gateway}/conversations/42")
    assert shell.status_code == 200
    assert "<title>Hanout</title>" in shell.text
    assert shell.headers["cache-control"] == "no-cache"
    asset = httpx.get(f"{gateway}/assets/app-1234.js")
    assert "immutable" in asset.headers["cache-control"]
    assert httpx.get(f"{gateway}/assets/missing.js").status_code == 404
    outside = httpx.get(f"{gateway}/%2e%2e/secret.txt")
    assert "not for the web" not in outside.text


def test_a_seeded_agent_gets_a_token_of_its_workspace(gateway: str) -> None:
    config = httpx.get(f"{gateway}/dev/config").json()
    assert config["workspaces"][0]["workspace_id"] == "ws-gw"
    answer = httpx.post(f"{gateway}/dev/token", json={"workspace_id": "ws-gw",
                                                      "agent_id": "agent-2"})  # fmt: skip
    claims = jwt.decode(answer.json()["token"], DEV_JWT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["wid"], claims["name"]) == ("agent-2", "ws-gw", "Youssef Alaoui")


def test_an_unknown_agent_gets_no_token(gateway: str) -> None:
    answer = httpx.post(f"{gateway}/dev/token", json={"workspace_id": "ws-gw",
                                                      "agent_id": "intruder"})  # fmt: skip
    assert answer.status_code == 404


def test_a_service_that_is_down_answers_502(tmp_path: Path) -> None:
    port, dead = free_port(), free_port()
    config = GatewayConfig(upstreams={"inbox": f"http://127.0.0.1:{dead}", "ingest": "x"},
                           dist=tmp_path)  # fmt: skip
    server = _serve(create_app(config), port)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/inbox/conversations")
        assert answer.status_code == 502
        assert json.loads(answer.text)["code"] == "bad_gateway"
    finally:
        server.should_exit = True


def test_a_null_byte_in_a_path_is_a_clear_400_not_a_crash(gateway: str) -> None:
    for path in ("/index.html%00.js", "/assets/app-1234.js%00", "/%00"):
        answer = httpx.get(f"{gateway}{path}")
        assert answer.status_code in (400, 404), f"{path}: {answer.status_code} {answer.text}"
        assert "Traceback" not in answer.text


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(path=st.text(max_size=60))
def test_any_path_is_answered_without_a_server_error(gateway: str, path: str) -> None:
    for prefix in ("/", "/assets/", "/api/"):
        answer = httpx.get(f"{gateway}{prefix}{quote(path, safe='/')}")
        assert answer.status_code < 500, f"{prefix}{path!r}: {answer.status_code} {answer.text}"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_every_answer_carries_the_security_headers(gateway: str) -> None:
    for path in ("/", "/conversations/42", "/assets/app-1234.js", "/api/orders/orders", "/x%00"):
        headers = httpx.get(f"{gateway}{path}").headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_an_upstream_sandbox_policy_is_kept(gateway: str) -> None:
    answer = httpx.get(f"{gateway}/api/ingest/media")
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_an_unknown_api_path_is_a_json_404_not_the_app(gateway: str) -> None:
    for path in ("/api/nosuch/x", "/api/", "/api", "/api/ordersx/orders"):
        answer = httpx.get(f"{gateway}{path}")
        assert answer.status_code == 404, path
        assert answer.json()["code"] == "not_found", path


def test_dev_routes_answer_only_a_loopback_host_and_json(gateway: str) -> None:
    body = {"workspace_id": "ws-gw", "agent_id": "agent-2"}
    rebound = httpx.post(f"{gateway}/dev/token", json=body, headers={"Host": "evil.example"})
    assert (rebound.status_code, rebound.json()["code"]) == (403, "forbidden_host")
    assert httpx.get(f"{gateway}/dev/config", headers={"Host": "evil.example"}).status_code == 403
    form = httpx.post(f"{gateway}/dev/token", content=json.dumps(body),
                      headers={"Content-Type": "text/plain"})  # fmt: skip
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")
    for host in ("localhost:8080", "127.0.0.1", "[::1]:8080"):
        answer = httpx.post(f"{gateway}/dev/token", json=body, headers={"Host": host})
        assert answer.status_code == 200, host


def test_dev_routes_are_off_outside_development(tmp_path: Path) -> None:
    config = GatewayConfig.from_env({"HANOUT_ENV": "production", "GATEWAY_WEB_DIST": str(tmp_path)})
    port = free_port()
    server = _serve(create_app(config), port)
    try:
        body = {"workspace_id": "demo", "agent_id": "agent-1"}
        answer = httpx.post(f"http://127.0.0.1:{port}/dev/token", json=body)
        assert answer.status_code == 404
    finally:
        server.should_exit = True


def test_an_encoded_character_in_an_api_path_stays_in_the_path(gateway: str) -> None:
    """As nginx does: `%3F` in a path is not turned into a query on the way to the service."""
    answer = httpx.get(f"{gateway}/api/ingest/channels/1/media/me%3Ffields=id,name").json()
    assert (answer["decoded_path"], answer["query"]) == ("/channels/1/media/me?fields=id,name", "")
    slash = httpx.get(f"{gateway}/api/inbox/library/a%2Fb").json()
    assert slash["decoded_path"] == "/library/a/b"  # what the service decodes, as behind nginx
