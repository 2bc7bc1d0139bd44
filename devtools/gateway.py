"""The development gateway: the web client and every service on one origin, as deploy/nginx.conf.

`/api/<service>/x` reaches the service as `/x` (streamed both ways, Server-Sent Events unbuffered),
`/webhooks/whatsapp` reaches ingest with its path and raw body, `/` serves `web/dist` with the
app shell for client-side routes; `/api/<anything else>` is a JSON 404. Every answer carries the
security headers of deploy/nginx.conf (an upstream's own CSP, e.g. the media proxy's sandbox, is
kept). Development only: `/dev/` mints tokens for the seeded agents and lets the page play a
customer through the Meta simulator, and only for a loopback Host (a DNS-rebound page names its own
host) and JSON bodies (a cross-site form cannot send one without a preflight).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devtools.seed_data import Roster, demo_roster
from devtools.services import DEV_PORTS
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_PATH = "/webhooks/whatsapp"
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "proxy-connection"}
)  # fmt: skip
# The web client loads only its own files: no inline script, nothing framed, no referrer sent.
# Images and video may be https links a template or a message points at; media is shown from
# blob: URLs of files fetched through the media proxy.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data: https:; media-src 'self' blob: https:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


@dataclass(frozen=True)
class GatewayConfig:
    upstreams: Mapping[str, str] = field(
        default_factory=lambda: {name: f"http://127.0.0.1:{p}" for name, p in DEV_PORTS.items()}
    )
    dist: Path = ROOT / "web" / "dist"
    simulator_url: str | None = None
    jwt_secret: str = DEV_JWT_SECRET
    roster: Roster = field(default_factory=demo_roster)
    dev: bool = True  # the /dev/ routes; off unless HANOUT_ENV is development (or test)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GatewayConfig:
        """GATEWAY_<SERVICE>_URL, GATEWAY_WEB_DIST, GATEWAY_SIMULATOR_URL, GATEWAY_ROSTER (JSON),
        HANOUT_ENV (the /dev/ routes only in development or test)."""
        default = cls()
        upstreams = {
            name: env.get(f"GATEWAY_{name.upper()}_URL", url)
            for name, url in default.upstreams.items()
        }
        roster = env.get("GATEWAY_ROSTER")
        return cls(
            upstreams=upstreams,
            dist=Path(env.get("GATEWAY_WEB_DIST", str(default.dist))),
            simulator_url=env.get("GATEWAY_SIMULATOR_URL") or None,
            jwt_secret=env.get("AUTH_JWT_SECRET", DEV_JWT_SECRET),
            roster=Roster.model_validate_json(roster) if roster else default.roster,
            dev=env.get("HANOUT_ENV", "development") in ("development", "test"),
        )


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _forward_headers(request: Request, prefix: str) -> list[tuple[str, str]]:
    """The caller's headers, plus what nginx adds (correlation id and X-Forwarded-*)."""
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    names = {k.lower() for k, _ in headers}
    client = request.client.host if request.client else ""
    host = request.headers.get("host", "")
    if "x-correlation-id" not in names:
        headers.append(("x-correlation-id", uuid.uuid4().hex))
    forwarded_for = request.headers.get("x-forwarded-for")
    headers = [(k, v) for k, v in headers if k.lower() != "x-forwarded-for"]
    headers += [
        ("x-real-ip", client),
        ("x-forwarded-for", f"{forwarded_for}, {client}" if forwarded_for else client),
        ("x-forwarded-proto", request.url.scheme),
        ("x-forwarded-host", host),
        ("x-forwarded-prefix", prefix),
    ]
    return headers


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    # Each chunk goes out as it arrives (no buffering: the live stream depends on it); a client
    # that leaves cancels us here, and the upstream connection is closed either way.
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await upstream.aclose()


async def proxy(request: Request, client: httpx.AsyncClient, url: str, prefix: str) -> Response:
    query = request.url.query
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    outgoing = client.build_request(
        request.method,
        f"{url}?{query}" if query else url,
        headers=_forward_headers(request, prefix),
        content=request.stream() if has_body else None,
    )
    try:
        upstream = await client.send(outgoing, stream=True)
    except httpx.TransportError as exc:
        return _error(502, "bad_gateway", f"{url} is not reachable: {type(exc).__name__}")
    headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    if upstream.headers.get("content-type", "").startswith("text/event-stream"):
        headers["x-accel-buffering"] = "no"
    return StreamingResponse(_relay(upstream), status_code=upstream.status_code, headers=headers)


def _static(dist: Path, path: str) -> Response:
    """A built file; unknown paths get the app shell, except under /assets/ (hashed names)."""
    if "\x00" in path:  # no file name holds one, and the OS refuses it
        return _error(400, "invalid_path", "A path may not contain a null byte")
    root = dist.resolve()
    target = (root / path.lstrip("/")).resolve()
    inside = target == root or root in target.parents
    if inside and target.is_file():
        cache = "public, max-age=31536000, immutable" if path.startswith("/assets/") else "no-cache"
        return FileResponse(target, headers={"Cache-Control": cache})
    if path.startswith("/assets/"):
        return PlainTextResponse("Not found", status_code=404)
    index = root / "index.html"
    if not index.is_file():
        message = "The web client is not built: run `make deps` (npm ci && npm run build in web/)"
        return PlainTextResponse(message, status_code=503)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        timeout = httpx.Timeout(connect=5.0, read=None, write=60.0, pool=10.0)
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def route(self, request: Request) -> Response:
        path = request.url.path
        for name, base in self.config.upstreams.items():
            prefix = f"/api/{name}"
            if path.startswith(f"{prefix}/"):
                return await proxy(request, self.client, base + path[len(prefix) :], prefix)
        if path.startswith(WEBHOOK_PATH):
            return await proxy(request, self.client, self.config.upstreams["ingest"] + path, "")
        if path == "/api" or path.startswith("/api/"):
            return _error(404, "not_found", f"No API at {path}")
        if path == "/healthz":
            return PlainTextResponse("ok\n")
        return _static(self.config.dist, path)

    async def dev_config(self, request: Request) -> Response:
        if refused := _dev_refusal(request, self.config.dev):
            return refused
        roster = self.config.roster.model_dump(mode="json")
        return JSONResponse(
            {"dev": True, "simulator": self.config.simulator_url is not None, **roster}
        )

    async def dev_token(self, request: Request) -> Response:
        if refused := _dev_refusal(request, self.config.dev):
            return refused
        body = await _json(request)
        workspace = self.config.roster.workspace(str(body.get("workspace_id")))
        agent = workspace.agent(str(body.get("agent_id"))) if workspace else None
        if workspace is None or agent is None:
            return _error(404, "not_found", "No such seeded agent in a seeded workspace")
        token = mint_dev_token(
            self.config.jwt_secret,
            agent_id=agent.agent_id,
            workspace_id=workspace.workspace_id,
            name=agent.name,
            roles=agent.roles,
        )
        return JSONResponse({"token": token})

    async def dev_simulate(self, request: Request) -> Response:
        """One customer text through the simulator, signed and delivered like Meta's webhook."""
        if refused := _dev_refusal(request, self.config.dev):
            return refused
        if self.config.simulator_url is None:
            return _error(404, "not_found", "No Meta simulator is configured")
        body = await _json(request)
        number = self.config.roster.number(str(body.get("phone_number_id")))
        text = str(body.get("text") or "").strip()
        wa_id = "".join(ch for ch in str(body.get("wa_id") or "") if ch.isdigit())
        if number is None or not text or not wa_id:
            return _error(422, "validation_failed", "phone_number_id, wa_id and text are needed")
        message = {
            "phone_number_id": number.phone_number_id,
            "display_phone_number": number.display_phone_number,
            "waba_id": number.waba_id,
            "wa_id": wa_id,
            "name": str(body.get("name") or "") or None,
            "type": "text",
            "content": {"body": text},
        }
        url = f"{self.config.simulator_url}/_sim/inbound"
        try:
            answer = await self.client.post(url, json=message, timeout=10)
        except httpx.TransportError as exc:
            return _error(502, "bad_gateway", f"The simulator is not reachable: {exc}")
        return JSONResponse(answer.json(), status_code=answer.status_code)


def _loopback(host_header: str) -> bool:
    host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    return host.lower() in LOOPBACK_HOSTS


def _dev_refusal(request: Request, dev: bool) -> Response | None:
    """Why a /dev/ call is refused: outside development, for a non-loopback Host, or (a write)
    with a body that is not JSON; None when it may go on."""
    if not dev:
        return _error(404, "not_found", "Development routes are off")
    if not _loopback(request.headers.get("host", "")):
        return _error(403, "forbidden_host", "Development routes answer only on a loopback host")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type != "application/json":
        return _error(415, "unsupported_media_type", "Development routes take JSON only")
    return None


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer that lacks them (streamed ones included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                         if k.encode() not in present]  # fmt: skip
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def create_app(config: GatewayConfig | None = None) -> Starlette:
    """Run with `uvicorn devtools.gateway:create_app --factory --port 8080`."""
    gateway = Gateway(config or GatewayConfig.from_env())
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/dev/config", gateway.dev_config, methods=["GET"]),
        Route("/dev/token", gateway.dev_token, methods=["POST"]),
        Route("/dev/simulate", gateway.dev_simulate, methods=["POST"]),
        Route("/{path:path}", gateway.route, methods=methods),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.client.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.state.gateway = gateway
    return app
