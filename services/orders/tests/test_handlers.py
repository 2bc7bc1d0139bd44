"""The customer-merge consumer against FastStream's in-memory broker and a fake store."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.contracts import topics
from hanout_shared.contracts.customers import CustomerCard, CustomerCreated, CustomerCreatedEvent
from hanout_shared.contracts.envelope import CONTENT_TYPE
from hanout_shared.platform.outbox import OutboxRelay
from orders import handlers, lifecycle
from orders.api_models import now
from orders.app import create_app
from orders.model import Cause, NewOrder, default_pipeline
from orders.settings import OrdersSettings

from .orders_builders import a_merge, an_order, auth, random_ref
from .orders_fakes import FakeStore


@dataclass
class World:
    broker: KafkaBroker
    client: httpx.AsyncClient
    store: FakeStore
    workspace: str
    events: list[dict[str, Any]] = field(default_factory=list)
    letters: list[dict[str, Any]] = field(default_factory=list)

    async def order_for(self, customer_id: str) -> dict[str, Any]:
        await self.store.customers.remember(self.workspace, customer_id)
        response = await self.client.post(
            "/orders", json=an_order(customer_id), headers=auth(self.workspace)
        )
        body: dict[str, Any] = response.json()
        return body

    async def deliver(self, body: dict[str, Any] | bytes) -> None:
        await self.broker.publish(
            body, topics.CUSTOMERS_EVENTS, headers={"content-type": CONTENT_TYPE}
        )

    def updates(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "orders.order.updated"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    store, broker = FakeStore(), KafkaBroker()
    events: list[dict[str, Any]] = []
    letters: list[dict[str, Any]] = []

    @broker.subscriber(topics.ORDERS_EVENTS)
    async def collect(message: KafkaMessage) -> None:
        events.append(json.loads(message.body))

    @broker.subscriber(topics.ORDERS_DEADLETTER)
    async def collect_letter(message: KafkaMessage) -> None:
        letters.append(json.loads(message.body))

    app = create_app(OrdersSettings(), broker=broker, store=store)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            yield World(broker, client, store, random_ref("ws"), events, letters)


async def test_a_merge_repoints_the_absorbed_customers_orders(world: World) -> None:
    kept = await world.order_for("cus-survivor")
    moved = [await world.order_for("cus-dup-1"), await world.order_for("cus-dup-2")]
    merge = a_merge(world.workspace, "cus-survivor", ["cus-dup-1", "cus-dup-2"])
    await world.deliver(merge.model_dump(mode="json"))
    for order in moved:
        now = await world.store.orders.get(world.workspace, order["id"])
        assert now is not None and (now.customer_id, now.version) == ("cus-survivor", 2)
    untouched = await world.store.orders.get(world.workspace, kept["id"])
    assert untouched is not None and untouched.version == 1
    updates = world.updates()
    assert {u["subject"] for u in updates} == {order["id"] for order in moved}
    assert all(u["data"]["changed_fields"] == ["customer_id"] for u in updates)
    assert {u["data"]["previous_customer_id"] for u in updates} == {"cus-dup-1", "cus-dup-2"}
    assert all(u["data"]["order"]["version"] == 2 for u in updates)
    assert {(u["actorname"], u["correlationid"]) for u in updates} == {
        ("Youssef", merge.correlationid)
    }


async def test_a_redelivered_merge_changes_nothing(world: World) -> None:
    order = await world.order_for("cus-dup")
    merge = a_merge(world.workspace, "cus-main", ["cus-dup"])
    await world.deliver(merge.model_dump(mode="json"))
    await world.deliver(merge.model_dump(mode="json"))
    now = await world.store.orders.get(world.workspace, order["id"])
    assert now is not None and now.version == 2
    assert len(world.updates()) == 1


async def test_an_order_sent_later_for_an_absorbed_customer_lands_on_the_survivor(
    world: World,
) -> None:
    await world.deliver(a_merge(world.workspace, "cus-b", ["cus-a"]).model_dump(mode="json"))
    await world.deliver(a_merge(world.workspace, "cus-c", ["cus-b"]).model_dump(mode="json"))
    assert (await world.order_for("cus-a"))["customer_id"] == "cus-c"


async def test_a_merge_in_another_workspace_leaves_my_orders_alone(world: World) -> None:
    order = await world.order_for("cus-dup")
    await world.deliver(a_merge(random_ref("ws"), "cus-x", ["cus-dup"]).model_dump(mode="json"))
    now = await world.store.orders.get(world.workspace, order["id"])
    assert now is not None and now.customer_id == "cus-dup"


async def test_other_customer_events_are_ignored(world: World) -> None:
    card = CustomerCard(customer_id="cus-1", version=1)
    created = CustomerCreatedEvent.create(
        source="hanout/customers", workspaceid=world.workspace, data=CustomerCreated(customer=card)
    )
    await world.deliver(created.model_dump(mode="json"))
    assert world.events == []


async def test_a_created_updated_or_merged_customer_becomes_one_an_order_may_name(
    world: World,
) -> None:
    card = CustomerCard(customer_id=random_ref("cus"), version=1)
    created = CustomerCreatedEvent.create(
        source="hanout/customers", workspaceid=world.workspace, data=CustomerCreated(customer=card)
    )
    merge = a_merge(world.workspace, random_ref("cus"), [card.customer_id])
    for event in (created, created, merge):  # a redelivery changes nothing
        await world.deliver(event.model_dump(mode="json"))
    for customer_id in (card.customer_id, merge.data.survivor_id):
        assert await world.store.customers.known(world.workspace, customer_id)
    assert not await world.store.customers.known(random_ref("ws"), card.customer_id)
    assert (await world.order_for(card.customer_id))["customer_id"] == merge.data.survivor_id


async def test_an_unreadable_event_is_dead_lettered_and_counted_not_retried(
    world: World,
) -> None:
    body = a_merge(world.workspace, "cus-a", ["cus-b"]).model_dump(mode="json")
    del body["data"]["survivor_id"]
    await world.deliver(body)
    await world.deliver(b"{not json")
    # Each of the two groups (merges, and the read model of customers) dead-letters what it
    # could not read.
    by_group = {(letter["data"]["group"], letter["data"]["reason"]) for letter in world.letters}
    reasons = ("invalid_event", "undecodable")
    assert by_group == {(group, r) for group in ("orders", "orders.customers") for r in reasons}
    assert len(world.letters) == 4
    assert {letter["data"]["topic"] for letter in world.letters} == {topics.CUSTOMERS_EVENTS}
    assert world.letters[0]["workspaceid"] == world.workspace
    metrics = (await world.client.get("/metrics")).text
    for reason in ("invalid_event", "undecodable"):
        line = f'hanout_dead_lettered_events_total{{reason="{reason}",topic="customers.events.v1"}}'
        assert f"{line} 2.0" in metrics  # once per group
    assert world.events == []


def test_the_consumer_group_follows_the_setting() -> None:
    store: Any = FakeStore()
    assert OrdersSettings().consumer_group == "orders"
    for group in ("orders-eu", "orders"):
        broker = KafkaBroker()
        create_app(OrdersSettings(consumer_group=group), broker=broker, store=store)
        subscribers: list[Any] = list(broker.subscribers)
        names = {s.group_id: [t.name for t in s.topics] for s in subscribers}
        assert names[group] == [topics.CUSTOMERS_EVENTS]


async def test_two_publishes_of_one_order_at_once_send_its_events_once(world: World) -> None:
    change = lifecycle.place(
        NewOrder.model_validate(an_order()),
        order_id=random_ref("ord"),
        workspace_id=world.workspace,
        number=1001,
        pipeline=default_pipeline(world.workspace),
        cause=Cause(actor=None, at=now()),
    )
    await world.store.orders.insert(change, None, "hash")
    outbox: Any = world.store.orders.outbox
    publishers = {topics.ORDERS_EVENTS: handlers.order_events}
    relay = OutboxRelay(
        [outbox], publishers, world.broker, interval_s=1, timeout_s=5, registry=CollectorRegistry()
    )
    published = await asyncio.gather(*[relay.publish(outbox, change.order.id) for _ in range(3)])
    assert published == [True] * 3
    assert [e["subject"] for e in world.events] == [change.order.id]
    assert await outbox.pending(change.order.id) == []
