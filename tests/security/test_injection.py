"""Mongo operators smuggled into every search and filter parameter and into JSON bodies are
refused or taken as plain text: they never match a row, never reach another workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.e2e.stack import Stack, token

from .openapi import Operation, guarded, url_of, valid_request
from .probe import Answer, leaked, probe
from .seed import Tenant

pytestmark = pytest.mark.integration

TEXTS = {
    "gt-object": '{"$gt": ""}',
    "ne-object": '{"$ne": null}',
    "regex-object": '{"$regex": ".*"}',
    "where": '$where: "1 == 1"',
    "where-js": "'; return true; var x='",
    "regex-any": ".*",
    "regex-anchor": "^",
    "field-path": "$workspace_id",
    "root": "$$ROOT",
}
BRACKETS = ("[$ne]", "[$gt]", "[$regex]")  # qs-style `customer_id[$ne]=`
PAGING = {"cursor", "after"}  # positions, not filters: they may list rows after them
KNOWN: dict[tuple[str, str, str], str] = {}


def _targets() -> list[tuple[Operation, str, str]]:
    """Every string parameter of every read: (operation, where, name)."""
    found = []
    for op in guarded():
        if op.method != "GET":
            continue
        for where in ("path", "query"):
            found += [(op, where, p["name"]) for p in op.parameters(where) if _textual(p)]
    return found


def _textual(parameter: dict[str, Any]) -> bool:
    schema = parameter.get("schema", {})
    kinds = {o.get("type") for o in schema.get("anyOf", [schema])}
    return "string" in kinds and "enum" not in schema


TARGETS = _targets()


@pytest.fixture(scope="module")
async def http(stack: Stack, owner: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    bearer = {"Authorization": f"Bearer {token(owner.workspace_id, admin=True)}"}
    async with httpx.AsyncClient(timeout=30.0, headers=bearer) as client:
        yield client


async def _ask(
    http: httpx.AsyncClient, stack: Stack, owner: Tenant, target: Any, value: str
) -> Any:
    op, where, name = target
    request = valid_request(op, owner.ids)
    if where == "path":
        url = url_of(op, stack.urls[op.service], owner.ids, **{name: value})
    else:
        url = url_of(op, stack.urls[op.service], owner.ids)
        request["params"] = {**request.get("params", {}), name: value}
    return url, await probe(http, op.method, url, **request)


def _counts_found(answer: Answer) -> bool:
    body = answer.json() if answer.text.startswith("{") else None
    numbers = list(body.values()) if isinstance(body, dict) else []
    return bool(numbers) and all(isinstance(n, int) for n in numbers) and any(numbers)


@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t[0]} {t[1]}:{t[2]}")
async def test_an_operator_in_a_search_or_filter_is_refused_or_matches_nothing(
    target: Any,
    text: str,
    stack: Stack,
    owner: Tenant,
    neighbour: Tenant,
    http: Any,
    request: pytest.FixtureRequest,
) -> None:
    if reason := KNOWN.get((str(target[0]), target[2], text)):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    url, answer = await _ask(http, stack, owner, target, text)
    assert answer.status < 500, answer.text
    assert not leaked(answer, neighbour.marks, url), answer.text
    if answer.status < 300 and target[2] not in PAGING:
        assert not leaked(answer, owner.marks, url), f"{text!r} matched rows: {answer.text[:500]}"
        assert not _counts_found(answer), f"{text!r} counted rows: {answer.text}"


@pytest.mark.parametrize("suffix", BRACKETS)
@pytest.mark.parametrize(
    "target", [t for t in TARGETS if t[1] == "query"], ids=lambda t: f"{t[0]} {t[2]}"
)
async def test_a_bracketed_operator_parameter_is_ignored_or_refused(
    target: Any, suffix: str, stack: Stack, owner: Tenant, neighbour: Tenant, http: Any
) -> None:
    op, _, name = target
    request = valid_request(op, owner.ids)
    url = url_of(op, stack.urls[op.service], owner.ids)
    plain = await probe(http, op.method, url, **request)
    params = {**request.pop("params", {}), f"{name}{suffix}": ""}
    answer = await probe(http, op.method, url, params=params, **request)
    assert answer.status < 500, answer.text
    assert not leaked(answer, neighbour.marks, url), answer.text
    if answer.status < 300 and not op.streams:  # ignored: the same rows as without it
        assert leaked(answer, owner.marks, url) == leaked(plain, owner.marks, url)


BODIED = [op for op in guarded() if op.body_schema() is not None]


def _operator_bodies(body: Any, neighbour: str) -> list[Any]:
    """The agent's body with `$` keys added, and with each field turned into an operator."""
    bodies: list[Any] = [{**body, "$where": "1 == 1", "$set": {"workspace_id": neighbour}}]
    for field in body:
        bodies.append({**body, field: {"$gt": ""}})
        bodies.append({**body, field: [{"$ne": None}]})
    return bodies


@pytest.mark.parametrize("op", BODIED, ids=str)
async def test_a_json_body_with_operator_keys_is_refused_or_stored_as_plain_data(
    op: Operation, stack: Stack, owner: Tenant, neighbour: Tenant, http: Any
) -> None:
    url = url_of(op, stack.urls[op.service], owner.ids)
    for body in _operator_bodies(valid_request(op, owner.ids)["json"], neighbour.workspace_id):
        request = valid_request(op, owner.ids)  # a new Idempotency-Key for each
        request.pop("json")
        answer = await probe(http, op.method, url, json=body, **request)
        assert answer.status < 500, f"{body}: {answer.text}"
        assert not leaked(answer, neighbour.marks, url), answer.text
        kept = answer.json().get("workspace_id") if answer.text.startswith("{") else None
        assert kept in (None, owner.workspace_id), f"{body} moved it to {kept}"
