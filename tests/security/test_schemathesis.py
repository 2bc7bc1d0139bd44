"""Schemathesis against every operation of every service's OpenAPI document, valid and invalid
input alike, with an admin token of a workspace of its own: never a 5xx, and every answer as the
document describes it (status, content type, headers, body schema)."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hanout_shared.platform.downloads import INLINE_TYPES, essence
from tests.e2e.stack import Stack, token

from .openapi import Operation, documents, operations

pytestmark = pytest.mark.integration


@schemathesis.check
def documented_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """The status is documented; a body that is not even UTF-8 JSON is test_bodies' subject."""
    if response.status_code == 400 and b"error parsing the body" in response.content:
        return None
    result: bool | None = status_code_conformance(ctx, response, case)
    return result


# What an API answers as data; anything else is a file a browser may be handed.
DATA_TYPES = ("application/json", "text/event-stream", "text/plain", "application/problem+json")


@schemathesis.check
def files_are_never_run(ctx: Any, response: Any, case: Any) -> bool | None:
    """A file answer is never sniffed, runs nothing, and is inline only if it is plain media."""
    kind = essence(response.headers.get("content-type", [""])[0])
    if response.status_code != 200 or not kind or kind in DATA_TYPES:
        return None
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    assert headers.get("x-content-type-options") == "nosniff", f"{kind} without nosniff"
    assert "sandbox" in headers.get("content-security-policy", ""), f"{kind} without a sandbox"
    inline = not headers.get("content-disposition", "inline").startswith("attachment")
    assert kind in INLINE_TYPES or not inline, f"{kind} served inline"
    return True


CHECKS = [
    not_a_server_error,
    files_are_never_run,
    documented_status,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 20}


@functools.cache
def _schema(service: str) -> Any:
    """Cases always carry the token: requests without one are the auth matrix's subject."""
    schema = schemathesis.openapi.from_dict(documents()[service])
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _can_be_wrong(op: Operation) -> bool:
    """Invalid input exists only where the operation takes some (besides the path's strings)."""
    takes = [p for p in op.spec.get("parameters", []) if p["in"] != "path"]
    return bool(takes or op.spec.get("requestBody"))


KNOWN: dict[str, str] = {}  # operation → why it fails today (strict xfail)
CASES = [
    pytest.param(
        op,
        mode,
        id=f"{op}-{mode.value}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN[str(op)])] if str(op) in KNOWN else [],
    )
    for op in operations()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or _can_be_wrong(op)
]


@pytest.fixture(scope="module")
def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {token(f'fuzz-{uuid.uuid4().hex[:8]}', admin=True)}"}


def _call_stream(case: Any, base_url: str, headers: dict[str, str]) -> None:
    """A stream never ends: only its status is checked, and it is closed at once."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    kwargs.pop("timeout", None)
    documented = {int(code) for code in case.operation.definition.raw["responses"]}
    with httpx.Client(timeout=10.0) as client:
        request = client.build_request(
            kwargs.pop("method"), kwargs.pop("url"),
            **{k: v for k, v in kwargs.items() if k in ("params", "headers", "json", "content")},
        )  # fmt: skip
        response = client.send(request, stream=True)
        response.close()
    assert response.status_code < 500 and response.status_code in documented, (
        f"{response.status_code} for {case.as_curl_command()}"
    )


@pytest.mark.parametrize(("op", "mode"), CASES)
def test_every_operation_answers_as_documented_and_never_with_a_5xx(
    op: Operation, mode: GenerationMode, stack: Stack, bearer: dict[str, str]
) -> None:
    operation, base_url = _schema(op.service)[op.path][op.method], stack.urls[op.service]

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if op.streams:
            _call_stream(case, base_url, bearer)
        else:
            case.call_and_validate(base_url=base_url, headers=bearer, checks=CHECKS, timeout=30)

    check()
