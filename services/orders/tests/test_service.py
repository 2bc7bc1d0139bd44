"""The orders service as its own process on the real broker and store, over HTTP and Kafka."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from devtools.groups import start_groups_at_end
from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.contracts.customers import CustomerCard, CustomerCreated, CustomerCreatedEvent
from hanout_shared.contracts.envelope import CONTENT_TYPE
from orders import lifecycle
from orders.api_models import now
from orders.model import Actor, Cause, NewOrder, default_pipeline
from orders.store import Store

from .orders_builders import a_merge, an_order, auth, random_ref

pytestmark = pytest.mark.integration
Event = dict[str, Any]


@pytest.fixture(scope="module")
def database() -> str:
    return f"orders_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def orders_url(
    kafka_bootstrap_servers: str, mongodb_url: str, database: str, tmp_path_factory: Any
) -> Iterator[str]:
    group = f"orders-{database}"
    # The shared broker holds other runs' customer events: the new group starts after them.
    groups = {name: [topics.CUSTOMERS_EVENTS] for name in (group, f"{group}.customers")}
    asyncio.run(start_groups_at_end(kafka_bootstrap_servers, groups))
    env = infra_env(
        kafka_bootstrap_servers,
        mongodb_url,
        HANOUT_ENV="test",
        ORDERS_MONGODB_DATABASE=database,
        ORDERS_CONSUMER_GROUP=group,
        ORDERS_OUTBOX_SWEEP_INTERVAL_S="0.5",
        ORDERS_CUSTOMER_WAIT_S="20",  # a created customer's event may queue behind others
    )
    service = ServiceProcess("orders", env, Path(tmp_path_factory.mktemp("logs")))
    service.start()
    try:
        service.wait_ready()
        yield service.url
    finally:
        service.stop()


class OrderEvents:
    """Reads orders.events.v1 from the end, as it was when the test started."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topics.ORDERS_EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="latest"
        )
        self.seen: list[Event] = []

    async def start(self) -> None:
        await self.consumer.start()
        deadline = time.monotonic() + 30
        while not self.consumer.assignment():
            assert time.monotonic() < deadline, "no partition of orders.events.v1 assigned"
            await asyncio.sleep(0.05)
        await self.consumer.seek_to_end()
        for partition in self.consumer.assignment():
            await self.consumer.position(partition)  # pins "the end" before the test acts

    async def until(self, check: Callable[[list[Event]], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not check(self.seen):
            if time.monotonic() > deadline:
                raise AssertionError(f"events not seen within {timeout} s: {self.seen[-5:]}")
            batches = await self.consumer.getmany(timeout_ms=300)
            self.seen += [json.loads(r.value) for rs in batches.values() for r in rs]

    def of(self, workspace: str, kind: str = "") -> list[Event]:
        return [e for e in self.seen if e["workspaceid"] == workspace and kind in e["type"]]


@pytest.fixture
async def events(kafka_bootstrap_servers: str, orders_url: str) -> AsyncIterator[OrderEvents]:
    reader = OrderEvents(kafka_bootstrap_servers)
    await reader.start()
    try:
        yield reader
    finally:
        await reader.consumer.stop()


@pytest.fixture
async def http(orders_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=orders_url, timeout=30) as client:
        yield client


async def test_concurrent_creates_never_share_a_number(
    http: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    workspace = random_ref("ws")
    body = an_order(await a_customer(kafka_bootstrap_servers, workspace))
    responses = await asyncio.gather(
        *[http.post("/orders", json=body, headers=auth(workspace)) for _ in range(30)]
    )
    assert {r.status_code for r in responses} == {201}
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == list(range(1001, 1031)), numbers


async def test_a_concurrent_double_submit_creates_one_order(
    http: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    workspace = random_ref("ws")
    customer = await a_customer(kafka_bootstrap_servers, workspace)
    headers = auth(workspace) | {"Idempotency-Key": str(uuid.uuid4())}
    body = an_order(customer)
    responses = await asyncio.gather(
        *[http.post("/orders", json=body, headers=headers) for _ in range(8)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await http.get(f"/orders?customer_id={customer}", headers=auth(workspace))
    assert len(listed.json()["items"]) == 1


async def test_of_two_agents_moving_the_same_order_one_is_refused(
    http: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    workspace = random_ref("ws")
    body = an_order(await a_customer(kafka_bootstrap_servers, workspace))
    order = (await http.post("/orders", json=body, headers=auth(workspace))).json()
    moves = [("agent-1", "confirmed"), ("agent-2", "cancelled")]
    responses = await asyncio.gather(
        *[
            http.post(
                f"/orders/{order['id']}/stage",
                json={"stage_id": stage},
                headers=auth(workspace, agent=agent) | {"If-Match": '"1"'},
            )
            for agent, stage in moves
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    [refused] = [r for r in responses if r.status_code == 409]
    winner = refused.json()["details"][0]["current"]
    assert winner["version"] == 2
    detail = (await http.get(f"/orders/{order['id']}", headers=auth(workspace))).json()
    assert detail["stage"]["id"] == winner["stage"]["id"] and len(detail["history"]) == 2


async def test_the_default_pipeline_then_a_customised_one(
    http: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    workspace = random_ref("ws")
    admin = auth(workspace, admin=True)
    default = (await http.get("/pipeline", headers=admin)).json()
    assert [s["state"] for s in default["stages"]][-1] == "cancelled" and default["version"] == 0
    body = an_order(await a_customer(kafka_bootstrap_servers, workspace))
    order = (await http.post("/orders", json=body, headers=admin)).json()
    stages = [s for s in default["stages"] if s["id"] != "returned"]
    stages[0] |= {"name": "À confirmer", "color": "#111111"}
    stages.append(
        {
            "id": "no_answer",
            "name": "Pas de réponse",
            "color": "#eab308",
            "position": 15,
            "state": "new",
        }
    )
    transitions = {"new": ["no_answer", "confirmed", "cancelled"], "no_answer": ["confirmed"]}
    body = {"stages": stages, "transitions": transitions, "expected_version": 0}
    saved = await http.put("/pipeline", json=body, headers=admin)
    assert saved.status_code == 200 and saved.json()["version"] == 1
    refused = await http.post(
        f"/orders/{order['id']}/stage",
        json={"stage_id": "shipped"},
        headers=admin | {"If-Match": '"1"'},
    )
    assert refused.json()["code"] == "transition_not_allowed"
    moved = await http.post(
        f"/orders/{order['id']}/stage",
        json={"stage_id": "no_answer"},
        headers=admin | {"If-Match": '"1"'},
    )
    assert moved.json()["stage"]["name"] == "Pas de réponse"
    [created, entry] = (await http.get(f"/orders/{order['id']}", headers=admin)).json()["history"]
    assert entry["from_stage"]["name"] == "Nouvelle" and created["to_stage"]["color"] == "#3b82f6"


async def test_events_land_on_the_topic_with_actor_and_correlation(
    http: httpx.AsyncClient, events: OrderEvents, kafka_bootstrap_servers: str
) -> None:
    workspace = random_ref("ws")
    headers = auth(workspace, agent="agent-5", name="Hind") | {"X-Correlation-ID": "corr-42"}
    body = an_order(await a_customer(kafka_bootstrap_servers, workspace))
    order = (await http.post("/orders", json=body, headers=headers)).json()
    await http.post(
        f"/orders/{order['id']}/stage",
        json={"stage_id": "confirmed"},
        headers=headers | {"If-Match": '"1"'},
    )
    await events.until(lambda _: len(events.of(workspace)) >= 2)
    created, moved = events.of(workspace)
    assert created["type"] == "orders.order.created" and created["subject"] == order["id"]
    assert created["data"]["order"]["total"] == "654.80"
    assert moved["data"]["to_stage"]["state"] == "confirmed"
    assert {(e["actorid"], e["actorname"], e["correlationid"]) for e in (created, moved)} == {
        ("agent-5", "Hind", "corr-42")
    }


async def publish(bootstrap: str, body: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.CUSTOMERS_EVENTS,
            json.dumps(body).encode(),
            key=body["subject"].encode(),
            headers=[("content-type", CONTENT_TYPE.encode())],
        )
    finally:
        await producer.stop()


async def a_customer(bootstrap: str, workspace: str, customer_id: str | None = None) -> str:
    """A customer created in the customers service, as orders learns it: its event."""
    card = CustomerCard(customer_id=customer_id or random_ref("cus"), version=1)
    created = CustomerCreatedEvent.create(
        source="hanout/customers",
        workspaceid=workspace,
        subject=card.customer_id,
        data=CustomerCreated(customer=card),
    )
    await publish(bootstrap, created.model_dump(mode="json"))
    return card.customer_id


async def test_an_order_names_a_customer_of_its_own_workspace_only(
    http: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    mine, theirs = random_ref("ws"), random_ref("ws")
    customer = await a_customer(kafka_bootstrap_servers, theirs)
    created = await http.post("/orders", json=an_order(customer), headers=auth(theirs))
    assert created.status_code == 201, created.text
    foreign = await http.post("/orders", json=an_order(customer), headers=auth(mine))
    assert (foreign.status_code, foreign.json()["code"]) == (422, "unknown_customer")


async def test_a_merge_repoints_orders_and_publishes_updates(
    http: httpx.AsyncClient, events: OrderEvents, kafka_bootstrap_servers: str
) -> None:
    workspace, survivor, absorbed = random_ref("ws"), random_ref("cus"), random_ref("cus")
    await a_customer(kafka_bootstrap_servers, workspace, absorbed)
    ids = [
        (await http.post("/orders", json=an_order(absorbed), headers=auth(workspace))).json()["id"]
        for _ in range(2)
    ]
    await publish(
        kafka_bootstrap_servers, a_merge(workspace, survivor, [absorbed]).model_dump(mode="json")
    )
    # Other runs on the shared broker may have put thousands of customer events ahead of it.
    await events.until(lambda _: len(events.of(workspace, "updated")) >= 2, timeout=120)
    updates = events.of(workspace, "updated")
    assert {u["subject"] for u in updates} == set(ids)
    assert all(u["data"]["order"]["customer_id"] == survivor for u in updates)
    assert all(u["data"]["changed_fields"] == ["customer_id"] for u in updates)
    assert all(u["data"]["order"]["version"] == 2 for u in updates)
    listed = await http.get(f"/orders?customer_id={survivor}", headers=auth(workspace))
    assert {o["id"] for o in listed.json()["items"]} == set(ids)


async def test_an_event_left_pending_by_a_crash_is_published_by_the_relay(
    mongodb_url: str, database: str, events: OrderEvents
) -> None:
    workspace = random_ref("ws")
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        store = Store(client[database])
        cause = Cause(actor=Actor(id="agent-1", name="Salma"), at=now())
        change = lifecycle.place(
            NewOrder.model_validate(an_order()),
            order_id=random_ref("ord"),
            workspace_id=workspace,
            number=1001,
            pipeline=default_pipeline(workspace),
            cause=cause,
        )
        assert await store.orders.insert(change, None, "written-before-a-crash")
        await events.until(lambda _: len(events.of(workspace)) == 1)
        assert events.of(workspace)[0]["id"] == change.events[0].id
        deadline = time.monotonic() + 10
        while await store.orders.outbox.pending(change.order.id):
            assert time.monotonic() < deadline, "the relay never marked the event published"
            await asyncio.sleep(0.1)
    finally:
        await client.close()
