"""Every endpoint of every OpenAPI document: no token is 401, and another workspace's token on
workspace A's resources finds nothing (404, and not a trace of A in the answer)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest

from hanout_shared.platform.settings import DEV_JWT_SECRET
from tests.e2e.shops import Shop
from tests.e2e.stack import Stack, token

from .openapi import Operation, guarded, url_of, valid_request
from .probe import leaked, probe
from .seed import Tenant

pytestmark = pytest.mark.integration
GUARDED = guarded()
# What can name a resource of workspace A: a path with an id, or a list. A creation without an
# id in its path only ever acts on the caller's own workspace.
TARGETING = [op for op in GUARDED if op.path_names or op.method == "GET"]


def _forged(kind: str) -> str:
    now = int(time.time())
    claims = {"sub": "agent-1", "wid": "owner", "roles": ["admin"], "iat": now, "exp": now + 600}
    if kind == "wrong-secret":
        return jwt.encode(claims, "not-the-secret-" * 3, algorithm="HS256")
    if kind == "expired":
        return jwt.encode({**claims, "exp": now - 60}, DEV_JWT_SECRET, algorithm="HS256")
    if kind == "no-workspace":
        return jwt.encode({k: v for k, v in claims.items() if k != "wid"}, DEV_JWT_SECRET)
    return jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


@pytest.mark.parametrize("op", GUARDED, ids=str)
async def test_every_endpoint_answers_401_without_a_token(
    op: Operation, stack: Stack, owner: Tenant, http: httpx.AsyncClient
) -> None:
    url = url_of(op, stack.urls[op.service], owner.ids)
    answer = await probe(http, op.method, url, **valid_request(op, owner.ids))
    assert answer.status == 401, answer.text
    assert answer.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert not leaked(answer, owner.marks, url)


@pytest.mark.parametrize("kind", ["wrong-secret", "expired", "no-workspace", "unsigned"])
@pytest.mark.parametrize("op", GUARDED, ids=str)
async def test_every_endpoint_answers_401_to_a_token_it_did_not_sign(
    op: Operation, kind: str, stack: Stack, owner: Tenant, http: httpx.AsyncClient
) -> None:
    url = url_of(op, stack.urls[op.service], owner.ids)
    request = valid_request(op, owner.ids)
    headers = {**request.pop("headers", {}), "Authorization": f"Bearer {_forged(kind)}"}
    answer = await probe(http, op.method, url, headers=headers, **request)
    assert answer.status == 401, answer.text
    assert not leaked(answer, owner.marks, url)


@pytest.mark.parametrize("op", TARGETING, ids=str)
async def test_another_workspace_s_token_finds_nothing_of_workspace_a(
    op: Operation, stack: Stack, owner: Tenant, intruder: Shop, http: httpx.AsyncClient
) -> None:
    url = url_of(op, stack.urls[op.service], owner.ids)
    request = valid_request(op, owner.ids)
    bearer = {"Authorization": f"Bearer {token(intruder.workspace_id, admin=True)}"}
    headers = {**request.pop("headers", {}), **bearer}
    answer = await probe(http, op.method, url, headers=headers, **request)
    if op.path_names:
        assert answer.status == 404, f"{answer.status}: {answer.text}"
    else:
        assert answer.status < 500, answer.text
    assert not leaked(answer, owner.marks, url), answer.text


async def test_a_media_id_of_workspace_a_is_not_served_through_another_workspace_s_number(
    stack: Stack, owner: Tenant, intruder: Shop
) -> None:
    own_number, media_id = intruder.channel.phone_number_id, owner.ids["media_id"]
    path = f"/channels/{own_number}/media/{media_id}"
    answer = await intruder.admin.call("ingest", "GET", path)
    assert answer.status_code in (404, 502) and b"facture" not in answer.content, answer.text


def test_every_operation_that_needs_a_token_documents_its_401() -> None:
    undocumented = [str(op) for op in GUARDED if "401" not in op.spec["responses"]]
    assert undocumented == []
