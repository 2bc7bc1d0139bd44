"""The orders HTTP API on a fake store and the in-memory broker (no lifespan: nothing connects)."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from hanout_shared.contracts import topics
from hanout_shared.platform import outbox
from hanout_shared.platform.errors import ApiError
from hanout_shared.platform.outbox import OutboxRelay
from orders.api_models import expected_version
from orders.app import create_app
from orders.settings import OrdersSettings

from .orders_builders import an_order, auth, random_ref
from .orders_fakes import FakeStore


@dataclass
class Desk:
    client: httpx.AsyncClient
    store: FakeStore
    relay: OutboxRelay
    workspace: str
    events: list[dict[str, Any]] = field(default_factory=list)

    async def create(self, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        """An order for a customer the read model knows (as customers.events.v1 told it)."""
        body = body or an_order()
        await self.store.customers.remember(self.workspace, body["customer_id"])
        return await self.client.post("/orders", json=body, headers=auth(self.workspace) | headers)

    async def move(self, order_id: str, stage_id: str, version: int) -> httpx.Response:
        headers = auth(self.workspace, agent="agent-2", name="Omar") | {"If-Match": f'"{version}"'}
        body = {"stage_id": stage_id}
        return await self.client.post(f"/orders/{order_id}/stage", json=body, headers=headers)

    async def get(self, path: str, workspace: str | None = None) -> httpx.Response:
        return await self.client.get(path, headers=auth(workspace or self.workspace))


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    store, broker = FakeStore(), KafkaBroker()
    events: list[dict[str, Any]] = []

    @broker.subscriber(topics.ORDERS_EVENTS)
    async def collect(message: KafkaMessage) -> None:
        events.append(json.loads(message.body))

    settings = OrdersSettings(customer_wait_s=0.3)
    app = create_app(settings, broker=broker, store=store)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            yield Desk(client, store, app.state.deps.relay, random_ref("ws"), events)


async def test_an_order_is_created_with_a_number_a_total_and_an_event(desk: Desk) -> None:
    response = await desk.create(an_order(conversation_key=f"{desk.workspace}:1109:212612"))
    assert response.status_code == 201
    order = response.json()
    assert (order["number"], order["label"], order["total"]) == (1001, "#1001", "654.80")
    assert order["stage"] == {"id": "new", "name": "Nouvelle", "color": "#3b82f6", "state": "new"}
    assert order["created_by"] == {"id": "agent-1", "name": "Salma"}
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/orders/{order['id']}"
    [event] = desk.events
    assert event["type"] == "orders.order.created" and event["actorname"] == "Salma"
    assert event["data"]["order"]["total"] == "654.80"
    assert event["correlationid"] == response.headers["x-correlation-id"]
    assert await desk.store.orders.outbox.pending(order["id"]) == []


async def test_the_business_number_sent_is_kept_and_an_older_clients_is_read_from_the_key(
    desk: Desk,
) -> None:
    key = f"{desk.workspace}:1109:212612"
    sent = (await desk.create(an_order(conversation_key=key, phone_number_id="1109"))).json()
    older = (await desk.create(an_order(conversation_key=key))).json()
    assert sent["phone_number_id"] == older["phone_number_id"] == "1109"
    assert [e["data"]["order"]["phone_number_id"] for e in desk.events] == ["1109", "1109"]
    schema = (await desk.client.get("/openapi.json")).json()["components"]["schemas"]
    assert "conversation" in schema["NewOrder"]["properties"]["phone_number_id"]["description"]


async def test_numbers_follow_each_other_per_workspace(desk: Desk) -> None:
    numbers = [(await desk.create()).json()["number"] for _ in range(3)]
    elsewhere = random_ref("ws")
    body = an_order()
    await desk.store.customers.remember(elsewhere, body["customer_id"])
    other = await desk.client.post("/orders", json=body, headers=auth(elsewhere))
    assert numbers == [1001, 1002, 1003]
    assert other.json()["number"] == 1001


async def test_a_double_submit_returns_the_same_order_once(desk: Desk) -> None:
    body = an_order()
    first, second = [await desk.create(body, **{"Idempotency-Key": "click-1"}) for _ in range(2)]
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(desk.store.orders.rows) == 1 and len(desk.events) == 1


async def test_the_same_key_with_another_body_is_refused(desk: Desk) -> None:
    await desk.create(an_order(), **{"Idempotency-Key": "click-2"})
    response = await desk.create(an_order(note="autre"), **{"Idempotency-Key": "click-2"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


async def test_concurrent_double_submits_create_one_order(desk: Desk) -> None:
    body = an_order()
    responses = await asyncio.gather(
        *[desk.create(body, **{"Idempotency-Key": "click-3"}) for _ in range(5)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(desk.store.orders.rows) == 1


async def test_invalid_orders_are_422_naming_the_field(desk: Desk) -> None:
    bad_quantity = an_order(lines=[{"name": "x", "quantity": 0, "unit_price": "10"}])
    response = await desk.create(bad_quantity)
    assert response.status_code == 422 and "lines.0.quantity" in response.json()["message"]
    response = await desk.create(an_order(total="1.00"))
    assert response.json()["code"] == "total_mismatch"
    assert response.json()["details"][0]["field"] == "body.total"


async def test_a_stage_change_is_recorded_and_published(desk: Desk) -> None:
    order = (await desk.create()).json()
    response = await desk.move(order["id"], "confirmed", 1)
    assert response.status_code == 200
    assert response.json()["stage"]["id"] == "confirmed" and response.headers["ETag"] == '"2"'
    detail = (await desk.get(f"/orders/{order['id']}")).json()
    [created, moved] = detail["history"]
    assert created["by"]["name"] == "Salma" and moved["by"]["name"] == "Omar"
    assert moved["from_stage"]["id"] == "new" and moved["to_stage"]["id"] == "confirmed"
    assert moved["seconds_in_previous_stage"] >= 0
    event = desk.events[-1]
    assert event["type"] == "orders.order.stage_changed"
    assert event["data"]["to_stage"]["state"] == "confirmed" and event["actorid"] == "agent-2"


async def test_a_stale_stage_change_is_409_with_the_current_state(desk: Desk) -> None:
    order = (await desk.create()).json()
    await desk.move(order["id"], "confirmed", 1)
    response = await desk.move(order["id"], "cancelled", 1)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "version_conflict"
    assert body["details"][0]["current"]["stage"]["id"] == "confirmed"
    assert (await desk.get(f"/orders/{order['id']}")).json()["stage"]["id"] == "confirmed"


async def test_a_change_without_a_version_is_428(desk: Desk) -> None:
    order = (await desk.create()).json()
    response = await desk.client.post(
        f"/orders/{order['id']}/stage", json={"stage_id": "shipped"}, headers=auth(desk.workspace)
    )
    assert response.status_code == 428 and response.json()["code"] == "version_required"


async def test_an_unknown_stage_is_422_naming_stage_id(desk: Desk) -> None:
    order = (await desk.create()).json()
    response = await desk.move(order["id"], "nowhere", 1)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "body.stage_id"


async def test_edit_and_cancel_go_through_versions_and_history(desk: Desk) -> None:
    order = (await desk.create()).json()
    headers = auth(desk.workspace) | {"If-Match": '"1"'}
    edited = await desk.client.patch(
        f"/orders/{order['id']}", json={"shipping_fee": "0"}, headers=headers
    )
    assert edited.json()["total"] == "619.80" and edited.json()["version"] == 2
    body = {"reason": "Client a annulé", "expected_version": 2}
    cancelled = await desk.client.post(
        f"/orders/{order['id']}/cancel", json=body, headers=auth(desk.workspace)
    )
    assert cancelled.json()["stage"]["state"] == "cancelled"
    kinds = [e["kind"] for e in (await desk.get(f"/orders/{order['id']}")).json()["history"]]
    assert kinds == ["created", "edited", "cancelled"]
    types = [event["type"].rsplit(".", 1)[1] for event in desk.events]
    assert types == ["created", "updated", "stage_changed", "cancelled"]


async def test_another_workspaces_order_is_404(desk: Desk) -> None:
    order = (await desk.create()).json()
    assert (await desk.get(f"/orders/{order['id']}", random_ref("ws"))).status_code == 404
    assert (await desk.get("/orders/by-number/1001", random_ref("ws"))).status_code == 404
    assert (await desk.get("/orders/by-number/%231001")).json()["id"] == order["id"]


async def test_a_customers_orders_come_newest_first_in_pages(desk: Desk) -> None:
    for _ in range(3):
        await desk.create(an_order("cus-karim"))
    await desk.create(an_order("cus-other"))
    page = (await desk.get("/orders?customer_id=cus-karim&limit=2")).json()
    assert [o["number"] for o in page["items"]] == [1003, 1002]
    rest = (await desk.get(f"/orders?customer_id=cus-karim&cursor={page['next_cursor']}")).json()
    assert [o["number"] for o in rest["items"]] == [1001] and rest["next_cursor"] is None
    assert rest["items"][0]["stage"]["color"] == "#3b82f6"


async def test_orders_are_found_by_stage_and_by_conversation(desk: Desk) -> None:
    key = f"{desk.workspace}:1109:212600"
    first = (await desk.create(an_order(conversation_key=key))).json()
    await desk.create()
    await desk.move(first["id"], "failed", 1)
    by_state = (await desk.get("/orders?state=failed")).json()["items"]
    by_chat = (await desk.get(f"/orders?conversation_key={key}")).json()["items"]
    assert [o["id"] for o in by_state] == [o["id"] for o in by_chat] == [first["id"]]


async def test_the_default_pipeline_and_a_customised_one(desk: Desk) -> None:
    default = (await desk.get("/pipeline")).json()
    assert [s["id"] for s in default["stages"]][:3] == ["new", "confirmed", "shipped"]
    stages = default["stages"] + [
        {"id": "callback", "name": "À rappeler", "color": "#0ea5e9", "position": 5, "state": "new"}
    ]
    body = {"stages": stages, "transitions": None}
    agent_try = await desk.client.put("/pipeline", json=body, headers=auth(desk.workspace))
    assert agent_try.status_code == 403
    admin = auth(desk.workspace, admin=True)
    saved = await desk.client.put("/pipeline", json=body, headers=admin)
    assert saved.status_code == 200
    assert [s["id"] for s in saved.json()["stages"]][:2] == ["new", "callback"]
    order = (await desk.create()).json()
    assert (await desk.move(order["id"], "callback", 1)).json()["stage"]["name"] == "À rappeler"


async def test_renaming_a_stage_never_rewrites_history(desk: Desk) -> None:
    order = (await desk.create()).json()
    await desk.move(order["id"], "confirmed", 1)
    pipeline = (await desk.get("/pipeline")).json()
    pipeline["stages"][1] |= {"name": "Validée", "color": "#000000"}
    admin = auth(desk.workspace, admin=True)
    assert (await desk.client.put("/pipeline", json=pipeline, headers=admin)).status_code == 200
    detail = (await desk.get(f"/orders/{order['id']}")).json()
    assert detail["stage"]["name"] == "Validée"
    assert detail["history"][1]["to_stage"]["name"] == "Confirmée"


async def test_a_stage_still_holding_orders_cannot_be_removed(desk: Desk) -> None:
    await desk.create()
    pipeline = (await desk.get("/pipeline")).json()
    pipeline["stages"] = [s for s in pipeline["stages"] if s["id"] != "new"]
    pipeline["stages"][0]["state"] = "new"
    admin = auth(desk.workspace, admin=True)
    response = await desk.client.put("/pipeline", json=pipeline, headers=admin)
    assert response.status_code == 409 and response.json()["code"] == "stage_in_use"


async def test_a_stale_pipeline_save_is_409(desk: Desk) -> None:
    pipeline = (await desk.get("/pipeline")).json()
    admin = auth(desk.workspace, admin=True)
    assert (await desk.client.put("/pipeline", json=pipeline, headers=admin)).status_code == 200
    stale = pipeline | {"expected_version": 0}
    response = await desk.client.put("/pipeline", json=stale, headers=admin)
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"


async def test_an_event_that_kafka_refused_stays_pending_and_is_relayed_later(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def kafka_down(*_: object) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(outbox, "publish_event", kafka_down)
    order = (await desk.create()).json()
    assert len(await desk.store.orders.outbox.pending(order["id"])) == 1 and desk.events == []
    monkeypatch.undo()
    assert await desk.relay.sweep(settled_s=0) == 0
    assert [event["data"]["order"]["order_id"] for event in desk.events] == [order["id"]]
    assert await desk.store.orders.outbox.pending(order["id"]) == []


async def test_health_and_docs_need_no_token(desk: Desk) -> None:
    assert (await desk.client.get("/healthz")).json()["status"] == "ok"
    spec = (await desk.client.get("/asyncapi.json")).json()
    assert "orders.events.v1" in str(spec["channels"])
    assert "customers.events.v1" in str(spec["channels"])
    paths = (await desk.client.get("/openapi.json")).json()["paths"]
    assert {"/orders", "/orders/{order_id}/stage", "/pipeline"} <= set(paths)


def test_the_expected_version_comes_from_if_match_or_the_body() -> None:
    assert expected_version('"3"', None) == 3
    assert expected_version('W/"4"', 4) == 4
    assert expected_version(None, 2) == 2
    with pytest.raises(ApiError) as missing:
        expected_version(None, None)
    assert missing.value.status == 428
    with pytest.raises(ApiError):
        expected_version('"3"', 4)


async def test_an_order_for_a_customer_nobody_knows_is_refused(desk: Desk) -> None:
    response = await desk.client.post("/orders", json=an_order(), headers=auth(desk.workspace))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unknown_customer"
    assert response.json()["details"][0]["field"] == "body.customer_id"
    assert desk.store.orders.rows == {}


async def test_an_order_for_another_workspaces_customer_is_refused(desk: Desk) -> None:
    theirs = an_order()
    await desk.store.customers.remember(random_ref("ws"), theirs["customer_id"])
    response = await desk.client.post("/orders", json=theirs, headers=auth(desk.workspace))
    assert (response.status_code, response.json()["code"]) == (422, "unknown_customer")


async def test_an_order_waits_briefly_for_a_customer_created_a_moment_ago(desk: Desk) -> None:
    body = an_order()

    async def arrives_later() -> None:
        await asyncio.sleep(0.1)
        await desk.store.customers.remember(desk.workspace, body["customer_id"])

    later = asyncio.create_task(arrives_later())
    response = await desk.client.post("/orders", json=body, headers=auth(desk.workspace))
    await later
    assert response.status_code == 201, response.text


async def test_an_edit_to_a_customer_nobody_knows_is_refused(desk: Desk) -> None:
    order = (await desk.create()).json()
    headers = auth(desk.workspace) | {"If-Match": '"1"'}
    patch = {"customer_id": random_ref("cus")}
    response = await desk.client.patch(f"/orders/{order['id']}", json=patch, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "unknown_customer")
