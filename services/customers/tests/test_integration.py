"""The customers service as its own process on the real broker and store: automatic detection
of the four kinds of contact, merge then lookup, and stats under redelivery."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import CloudEvent, topics
from hanout_shared.platform.kafka import ensure_topics

from .builders import (
    PHONE_NUMBER_ID,
    a_message_from,
    an_order,
    order_cancelled,
    order_created,
    random_ref,
    token_for,
)

pytestmark = pytest.mark.integration


GROUPS = {"customers.inbound": topics.WHATSAPP_INBOUND, "customers.orders": topics.ORDERS_EVENTS}


async def skip_history(bootstrap: str) -> None:
    """Start the service's groups at the end of their topics: the shared broker holds other
    tests' messages, which this service would otherwise read from the earliest first."""
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=list(GROUPS.values()))
    for group, topic in GROUPS.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await consumer.start()
        try:
            await consumer.topics()
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or {0}]
            consumer.assign(parts)
            await consumer.commit(await consumer.end_offsets(parts))
        finally:
            await consumer.stop()


@pytest.fixture(scope="module")
def customers(
    kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any
) -> Iterator[str]:
    asyncio.run(skip_history(kafka_bootstrap_servers))
    database = f"customers_{uuid.uuid4().hex[:8]}"
    env = infra_env(
        kafka_bootstrap_servers, mongodb_url, HANOUT_ENV="test", CUSTOMERS_MONGODB_DATABASE=database
    )
    service = ServiceProcess("customers", env, Path(tmp_path_factory.mktemp("logs")))
    service.start()
    try:
        service.wait_ready()
        yield service.url
    finally:
        service.stop()


class Events:
    """customers.events.v1 from the moment the test started, filtered to one workspace."""

    def __init__(self, consumer: AIOKafkaConsumer, workspace: str) -> None:
        self.consumer, self.workspace, self.seen = consumer, workspace, []  # type: list[dict[str, Any]]

    async def wait_for(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.seen:
                if predicate(event):
                    return event
            batch = await self.consumer.getmany(timeout_ms=200)
            for records in batch.values():
                bodies = [json.loads(r.value) for r in records]
                self.seen += [b for b in bodies if b.get("workspaceid") == self.workspace]
        raise AssertionError(f"no matching event within {timeout} s; saw {self.seen}")

    async def matched(self, conversation_key: str) -> dict[str, Any]:
        event = await self.wait_for(
            lambda e: e["type"] == "customers.contact.matched" and e["subject"] == conversation_key
        )
        data: dict[str, Any] = event["data"]
        return data


@pytest.fixture
async def events(customers: str, kafka_bootstrap_servers: str) -> AsyncIterator[Events]:
    consumer = AIOKafkaConsumer(
        topics.CUSTOMERS_EVENTS,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=random_ref("customers-test"),
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment():
            assert time.monotonic() < deadline, "no partition assigned"
            await consumer.getmany(timeout_ms=100)
        for partition in consumer.assignment():
            await consumer.position(partition)  # pins "latest" before the test produces
        yield Events(consumer, random_ref("ws"))
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str, topic: str, *events: CloudEvent, partition: int | None = None
) -> int:
    """Send in order; the partition of the last one."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            body = json.dumps(event.model_dump(mode="json")).encode()
            sent = await producer.send_and_wait(topic, body, key=event.key(), partition=partition)
    finally:
        await producer.stop()
    return int(sent.partition)


def create(url: str, workspace: str, **card: Any) -> str:
    response = httpx.post(f"{url}/customers", json=card, headers=token_for(workspace))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["customer_id"]
    return customer_id


def get(url: str, workspace: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{url}{path}", params=params, headers=token_for(workspace))
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_four_kinds_of_contact_are_matched(
    customers: str, events: Events, kafka_bootstrap_servers: str
) -> None:
    ws = events.workspace
    karim = create(customers, ws, name="Karim", phones=["06.12.34.56.78"])
    bsuid = {"kind": "bsuid", "value": "MA.771", "scope": PHONE_NUMBER_ID}
    youssef = create(customers, ws, name="Youssef", identities=[bsuid])
    twins = [create(customers, ws, name=n, phones=["0698765432"]) for n in ("Nadia", "Nadia B")]
    unknown = a_message_from(ws, wa_id="212655555555", profile_name="Salma")
    known = a_message_from(ws, wa_id="212612345678")
    bsuid_only = a_message_from(ws, wa_id=None, user_id="MA.771")
    shared = a_message_from(ws, wa_id="212698765432")
    await produce(
        kafka_bootstrap_servers, topics.WHATSAPP_INBOUND, unknown, known, bsuid_only, shared
    )
    assert (await events.matched(unknown.data.conversation_key))["outcome"] == "unknown"
    assert (await events.matched(known.data.conversation_key))["customer_id"] == karim
    assert (await events.matched(bsuid_only.data.conversation_key))["customer_id"] == youssef
    duplicates = await events.matched(shared.data.conversation_key)
    assert (duplicates["outcome"], duplicates["candidate_ids"]) == ("duplicates", sorted(twins))
    lookup = get(customers, ws, "/customers/lookup", phone="06 55 55 55 55")
    assert (lookup["outcome"], lookup["contact"]["profile_name"]) == ("unknown", "Salma")


async def test_merge_then_lookup_answers_the_survivor(customers: str, events: Events) -> None:
    ws = events.workspace
    survivor = create(customers, ws, name="Karim", phones=["0612345678"])
    absorbed = create(customers, ws, name="K.", phones=["+212 6 12 34 56 78", "0677777777"])
    assert get(customers, ws, "/customers/lookup", phone="0612345678")["outcome"] == "duplicates"
    response = httpx.post(
        f"{customers}/customers/{survivor}/merge",
        json={"absorbed_ids": [absorbed]},
        headers=token_for(ws),
    )
    assert response.status_code == 200, response.text
    for phone in ("0612345678", "+212677777777"):
        lookup = get(customers, ws, "/customers/lookup", phone=phone)
        assert (lookup["outcome"], lookup["customer"]["customer_id"]) == ("known", survivor)
    assert get(customers, ws, f"/customers/{absorbed}")["customer_id"] == survivor
    merged = await events.wait_for(lambda e: e["type"] == "customers.customer.merged")
    assert merged["data"]["absorbed_ids"] == [absorbed]


async def test_stats_after_created_cancelled_and_redelivered_events(
    customers: str, events: Events, kafka_bootstrap_servers: str
) -> None:
    ws = events.workspace
    customer_id = create(customers, ws, name="Karim", phones=["0612345678"])
    kept, placed = an_order(customer_id, total="249.90"), an_order(customer_id, total="120.00")
    stage = placed.stage.model_copy(update={"state": "cancelled"})
    cancelled = placed.model_copy(update={"version": 2, "stage": stage})
    await produce(kafka_bootstrap_servers, topics.ORDERS_EVENTS, order_created(ws, kept))
    partition = await produce(
        kafka_bootstrap_servers,
        topics.ORDERS_EVENTS,
        order_created(ws, placed),
        order_cancelled(ws, cancelled),
        order_created(ws, placed),
    )
    # A marker order behind the redelivery on its partition: once it counts, the stale
    # redelivered version before it has been consumed too.
    marker = an_order(customer_id, total="10.00")
    await produce(
        kafka_bootstrap_servers,
        topics.ORDERS_EVENTS,
        order_created(ws, marker),
        partition=partition,
    )
    deadline = time.monotonic() + 30
    while (stats := get(customers, ws, f"/customers/{customer_id}")["stats"])["orders_count"] < 3:
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.1)
    assert (stats["orders_count"], stats["not_spent_count"]) == (3, 1)
    assert Decimal(stats["total_spent"]) == Decimal("259.90")
