"""Bearer JWTs: HS256 in development, RS256 via JWKS in production, clear 401/403 errors."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hanout_shared.platform.auth import Admin, Agent, Authenticator, Principal, mint_dev_token
from hanout_shared.platform.errors import install_error_handlers

SECRET = "a-test-secret-of-at-least-32-characters!"


def an_app(authenticator: Authenticator) -> FastAPI:
    app = FastAPI()
    app.state.authenticator = authenticator
    install_error_handlers(app)

    @app.get("/me")
    async def me(agent: Agent) -> dict[str, Any]:
        return {
            "agent": agent.agent_id,
            "name": agent.name,
            "workspace": agent.workspace_id,
            "roles": sorted(agent.roles),
        }

    @app.post("/admin-only")
    async def admin_only(agent: Admin) -> dict[str, str]:
        return {"ok": agent.agent_id}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(an_app(Authenticator(secret=SECRET)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_exposes_agent_workspace_and_roles(client: TestClient) -> None:
    token = mint_dev_token(SECRET, agent_id="a-1", workspace_id="ws-1", name="Salma")
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "agent": "a-1",
        "name": "Salma",
        "workspace": "ws-1",
        "roles": ["agent"],
    }


def test_no_token_is_401_missing_token(client: TestClient) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_token_signed_with_another_secret_is_401_invalid_token(client: TestClient) -> None:
    token = mint_dev_token("another-secret-of-at-least-32-chars!!", agent_id="a", workspace_id="w")
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_an_expired_token_is_401_token_expired(client: TestClient) -> None:
    token = mint_dev_token(SECRET, agent_id="a", workspace_id="w", ttl_s=-10)
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_token_without_workspace_is_refused(client: TestClient) -> None:
    token = jwt.encode({"sub": "a", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_the_none_algorithm_is_refused(client: TestClient) -> None:
    claims = {"sub": "a", "wid": "w", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key=None, algorithm="none")
    assert client.get("/me", headers=bearer(token)).status_code == 401


def test_an_agent_without_the_admin_role_gets_403(client: TestClient) -> None:
    agent = mint_dev_token(SECRET, agent_id="a", workspace_id="w")
    admin = mint_dev_token(SECRET, agent_id="b", workspace_id="w", roles=["admin"])
    refused = client.post("/admin-only", headers=bearer(agent))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert client.post("/admin-only", headers=bearer(admin)).status_code == 200


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    server.shutdown()


def test_rs256_tokens_are_verified_through_the_jwks_url(
    jwks_server: tuple[str, rsa.RSAPrivateKey],
) -> None:
    url, key = jwks_server
    client = TestClient(an_app(Authenticator(secret=None, jwks_url=url)))
    claims = {"sub": "a-9", "wid": "ws-9", "roles": ["admin"], "exp": int(time.time()) + 60}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert client.get("/me", headers=bearer(good)).json()["workspace"] == "ws-9"
    forged = mint_dev_token(SECRET, agent_id="a", workspace_id="ws-9")
    assert client.get("/me", headers=bearer(forged)).status_code == 401


def test_admins_hold_every_role() -> None:
    admin = Principal(agent_id="a", name="A", workspace_id="w", roles=frozenset({"admin"}))
    assert admin.has_role("agent")


def test_the_token_command_mints_a_token_the_services_accept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hanout_shared.platform.token_cli import main

    monkeypatch.setenv("AUTH_JWT_SECRET", SECRET)
    main(["--agent", "a-7", "--workspace", "shop-1", "--role", "admin", "--name", "Salma"])
    token = capsys.readouterr().out.strip()
    body = TestClient(an_app(Authenticator(secret=SECRET))).get("/me", headers=bearer(token))
    assert body.json() == {
        "agent": "a-7",
        "name": "Salma",
        "workspace": "shop-1",
        "roles": ["admin"],
    }
