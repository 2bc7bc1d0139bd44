"""What a caller puts in a path or a body never steers a call to another system, never names
another workspace's rows, and a file a browser could run is never served as a page."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.shops import Shop
from tests.e2e.stack import Stack, token

from .openapi import LINE
from .seed import Tenant

pytestmark = pytest.mark.integration
STEERING = ["me%3Ffields=id,name", "123%3Fphone_number_id=999%26x=1", "me", "1%23x"]


def _graph_paths(stack: Stack) -> list[str]:
    recorded = httpx.get(f"{stack.simulator_url}/_sim/requests", timeout=10).json()
    return [row["path"] for row in recorded]


@pytest.mark.parametrize("media_id", STEERING)
async def test_a_media_id_that_names_another_graph_node_is_refused_before_graph(
    media_id: str, stack: Stack, owner: Tenant
) -> None:
    path = f"/channels/{owner.ids['phone_number_id']}/media/{media_id}"
    answer = await owner.shop.agent.call("ingest", "GET", path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "validation_failed"
    assert not [p for p in _graph_paths(stack) if p.rstrip("/").endswith("/me")]


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(value=st.text(min_size=1, max_size=40))
def test_any_path_value_of_the_media_proxy_is_digits_or_refused(stack: Stack, value: str) -> None:
    """Whatever the text, escaped into the path: 422 unless it is digits (then 404: no such
    number in this workspace); never a 5xx, never an answer from Graph."""
    bearer = {"Authorization": f"Bearer {token(f'fuzz-{uuid.uuid4().hex[:6]}')}"}
    for path in (
        f"/channels/{quote(value, safe='')}/media/1",
        f"/channels/1/media/{quote(value, safe='')}",
    ):
        answer = httpx.get(f"{stack.urls['ingest']}{path}", headers=bearer, timeout=10)
        digits = value.isascii() and value.isdigit() and len(value) <= 32
        # A decoded `/` or a dot segment changes the route: no route (404) or a redirect to the
        # path without its trailing slash (307), never a Graph call.
        routable = "/" not in value and value not in (".", "..")
        allowed = {404 if digits else 422} if routable else {307, 404, 422}
        assert answer.status_code in allowed, f"{path}: {answer.status_code} {answer.text}"
        if answer.status_code != 307:
            assert answer.json()["code"] in ("validation_failed", "not_found")


async def _order(shop_agent: Any, customer_id: str) -> httpx.Response:
    body = {"customer_id": customer_id, "lines": [LINE]}
    response: httpx.Response = await shop_agent.call("orders", "POST", "/orders", json=body)
    return response


async def test_an_order_for_another_workspaces_customer_is_refused(
    owner: Tenant, intruder: Shop
) -> None:
    answer = await _order(intruder.admin, owner.ids["customer_id"])
    assert answer.status_code in (404, 422), answer.text
    assert answer.json()["code"] == "unknown_customer"
    listed = await intruder.admin.ok("orders", "GET", "/orders")
    assert listed["items"] == []


async def test_an_order_for_a_customer_nobody_created_is_refused(owner: Tenant) -> None:
    answer = await _order(owner.shop.admin, f"cus-{uuid.uuid4().hex}")
    assert (answer.status_code, answer.json()["code"]) == (422, "unknown_customer"), answer.text


async def test_an_order_for_a_customer_created_a_moment_ago_is_taken(owner: Tenant) -> None:
    admin = owner.shop.admin
    card = await admin.ok("customers", "POST", "/customers", json={"name": "Nadia Amrani"})
    answer = await _order(admin, card["customer_id"])
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(("mime", "shown"), [("text/html", "attachment"),
                                             ("image/svg+xml", "attachment"),
                                             ("image/jpeg", "inline")])  # fmt: skip
async def test_a_customer_file_a_browser_could_run_is_a_sandboxed_attachment(
    mime: str, shown: str, owner: Tenant
) -> None:
    agent, number = owner.shop.agent, owner.ids["phone_number_id"]
    uploaded = await agent.ok(
        "ingest", "POST", f"/channels/{number}/media", params={"filename": "x"},
        content=b"<svg onload=alert(document.domain)>", headers={"Content-Type": mime},
    )  # fmt: skip
    served = await agent.call("ingest", "GET", f"/channels/{number}/media/{uploaded['media_id']}")
    assert served.status_code == 200, served.text
    assert served.headers["content-disposition"].split(";")[0] == shown
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
