"""Oversized and deeply nested JSON bodies are refused with a 4xx, never a 5xx, by every
operation that takes JSON and by Meta's webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import Stack, token

from .openapi import Operation, guarded, url_of, valid_request
from .probe import probe
from .seed import Tenant

pytestmark = pytest.mark.integration
BODIED = [op for op in guarded() if op.body_schema() is not None]
HUGE = 17 * 1024 * 1024  # above MongoDB's 16 MB document limit
DEEP, PARSEABLE = 100_000, 900  # past any JSON parser's recursion limit; just within Python's


def _oversized(body: dict[str, Any]) -> bytes:
    """The agent's body with its first text field (or an extra one) 17 MB long."""
    field = next((k for k, v in body.items() if isinstance(v, str)), "padding")
    return json.dumps({**body, field: "x" * HUGE}).encode()


def _nested(depth: int, body: dict[str, Any] | None = None) -> bytes:
    """The body with its first field (or the whole body) buried `depth` arrays deep."""
    inner = "[" * depth + "1" + "]" * depth
    if not body:
        return inner.encode()
    field = next(iter(body))
    rest = json.dumps({k: v for k, v in body.items() if k != field})[1:-1]
    return f'{{"{field}": {inner}{", " + rest if rest else ""}}}'.encode()


BAD = {
    "oversized": lambda body: _oversized(body),
    "nested-field-too-deep": lambda body: _nested(DEEP, body),
    "nested-field": lambda body: _nested(PARSEABLE, body),
    "nested-document": lambda body: _nested(DEEP),
}


KNOWN: dict[tuple[str, str], str] = {}  # (operation, kind) → why it fails today


@pytest.fixture(scope="module")
async def http(owner: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    bearer = {"Authorization": f"Bearer {token(owner.workspace_id, admin=True)}"}
    async with httpx.AsyncClient(timeout=120.0, headers=bearer) as client:
        yield client


@pytest.mark.parametrize("kind", list(BAD))
@pytest.mark.parametrize("op", BODIED, ids=str)
async def test_a_huge_or_deeply_nested_json_body_is_refused_with_a_4xx(
    op: Operation,
    kind: str,
    stack: Stack,
    owner: Tenant,
    http: httpx.AsyncClient,
    request: pytest.FixtureRequest,
) -> None:
    if reason := KNOWN.get((str(op), kind)):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    call = valid_request(op, owner.ids)
    content = BAD[kind](call.pop("json"))
    headers = {**call.pop("headers", {}), "Content-Type": "application/json"}
    url = url_of(op, stack.urls[op.service], owner.ids)
    answer = await probe(http, op.method, url, content=content, headers=headers, **call)
    assert 400 <= answer.status < 500, f"{answer.status}: {answer.text[:300]}"


def _signed(stack: Stack, body: bytes) -> dict[str, str]:
    digest = hmac.new(stack.app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


WEBHOOKS = {
    "oversized": b'{"object":"whatsapp_business_account","entry":["' + b"x" * (4 << 20) + b'"]}',
    "nested-document": _nested(DEEP),
}


@pytest.mark.parametrize("kind", list(WEBHOOKS))
async def test_a_signed_webhook_too_large_or_too_deep_is_refused_with_a_4xx(
    kind: str, stack: Stack
) -> None:
    body = WEBHOOKS[kind]
    async with httpx.AsyncClient(timeout=60.0) as client:
        url = f"{stack.urls['ingest']}/webhooks/whatsapp"
        answer = await client.post(url, content=body, headers=_signed(stack, body))
    assert 400 <= answer.status_code < 500, answer.text[:300]


async def test_a_signed_webhook_with_a_deeply_nested_entry_is_taken_without_a_5xx(
    stack: Stack,
) -> None:
    """A broken item is dead-lettered while the webhook is acknowledged: Meta must not retry."""
    entry = "[" * PARSEABLE + "]" * PARSEABLE
    body = f'{{"object":"whatsapp_business_account","entry":[{entry}]}}'.encode()
    async with httpx.AsyncClient(timeout=60.0) as client:
        url = f"{stack.urls['ingest']}/webhooks/whatsapp"
        answer = await client.post(url, content=body, headers=_signed(stack, body))
    assert answer.status_code == 200, answer.text[:300]


async def test_a_body_that_is_not_json_text_is_refused_with_a_documented_status(
    stack: Stack, owner: Tenant, http: httpx.AsyncClient
) -> None:
    undocumented = []
    for op in BODIED:
        call = valid_request(op, owner.ids)
        call.pop("json")
        headers = {**call.pop("headers", {}), "Content-Type": "application/json"}
        url = url_of(op, stack.urls[op.service], owner.ids)
        answer = await probe(http, op.method, url, content=b"\xff\xfe{", headers=headers, **call)
        if answer.status >= 500 or str(answer.status) not in op.spec["responses"]:
            undocumented.append(f"{op}: {answer.status}")
    assert undocumented == []


def _half_pair(body: dict[str, Any]) -> bytes | None:
    """The agent's body with half of a UTF-16 pair escaped in each of its text fields."""
    texts = [key for key, value in body.items() if isinstance(value, str)]
    if not texts:
        return None
    text = json.dumps({**body, **dict.fromkeys(texts, "Salam SURROGATE")})
    return text.replace("SURROGATE", "\\ud83d").encode()


async def test_half_a_utf16_pair_in_a_text_is_never_a_5xx(
    stack: Stack, owner: Tenant, http: httpx.AsyncClient
) -> None:
    """JSON may escape a lone surrogate; no UTF-8 store or event can hold one."""
    broken = []
    for op in BODIED:
        call = valid_request(op, owner.ids)
        content = _half_pair(call.pop("json"))
        if content is None:
            continue
        headers = {**call.pop("headers", {}), "Content-Type": "application/json"}
        url = url_of(op, stack.urls[op.service], owner.ids)
        answer = await probe(http, op.method, url, content=content, headers=headers, **call)
        if answer.status >= 500 or str(answer.status) not in op.spec["responses"]:
            broken.append(f"{op}: {answer.status} {answer.text[:120]}")
    assert broken == []
