"""The customers service as its own process on the real broker and store: automatic detection
of the four kinds of contact, merge then lookup, stats under redelivery, and an event a crash
left pending published at start-up."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from customers import events as announce
from customers.cards.model import CardFields, WorkspaceSettings, new_customer
from customers.store import Store, connect
from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import CloudEvent, topics
from hanout_shared.platform.auth import Principal
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
from .real_stack import Events, Groups, Offsets, end_offsets, produce, start_at_the_end

pytestmark = pytest.mark.integration


@dataclass
class Running:
    url: str
    group: str  # consumer groups of its own: another customers process on the broker (a dev
    # stack, another run) would otherwise share the partitions and take this one's messages
    database: str
    leftover: CloudEvent  # written with its card before the service started, never published
    events_before_start: Offsets


async def leave_a_pending_event(mongodb_url: str, database: str) -> CloudEvent:
    """What a create leaves behind when the process dies between the write and the publish."""
    ws, now = random_ref("ws"), datetime.now(UTC)
    agent = Principal(agent_id="agent-1", name="Salma", workspace_id=ws, roles=frozenset())
    fields = CardFields(name="Written before a crash")
    card = new_customer(fields, WorkspaceSettings(), workspace_id=ws, actor="agent-1", now=now)
    event = announce.created(card, agent)
    client = connect(mongodb_url)
    try:
        await Store(client[database]).add(ws, [card], {card.customer_id: [event]})
        # Written a while before the crash: the sweep takes what is older than a request's own
        # publish could still be working on, however fast this service starts.
        crashed_at = now - timedelta(minutes=1)
        await client[database]["customers"].update_one(
            {"_id": card.customer_id}, {"$set": {"outbox.0.at": crashed_at}}
        )
    finally:
        await client.close()
    return event


async def prepare(
    bootstrap: str, mongodb_url: str, group: str, database: str
) -> tuple[CloudEvent, Offsets]:
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=topics.ALL_TOPICS)
    await start_at_the_end(bootstrap, f"{group}.inbound", topics.WHATSAPP_INBOUND)
    await start_at_the_end(bootstrap, f"{group}.orders", topics.ORDERS_EVENTS)
    leftover = await leave_a_pending_event(mongodb_url, database)
    return leftover, await end_offsets(bootstrap, topics.CUSTOMERS_EVENTS)


async def consuming(bootstrap: str, group: str) -> None:
    async with Groups(bootstrap) as groups:
        for suffix in (".inbound", ".orders"):
            await groups.wait_until_consuming(group + suffix)


@pytest.fixture(scope="module")
def customers(
    kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any
) -> Iterator[Running]:
    bootstrap, suffix = kafka_bootstrap_servers, uuid.uuid4().hex[:8]
    group, database = f"customers-test-{suffix}", f"customers_{suffix}"
    leftover, before = asyncio.run(prepare(bootstrap, mongodb_url, group, database))
    env = infra_env(
        bootstrap,
        mongodb_url,
        HANOUT_ENV="test",
        CUSTOMERS_MONGODB_DATABASE=database,
        CUSTOMERS_CONSUMER_GROUP=group,
        # Only the start-up sweep may publish the leftover: the periodic one comes too late.
        CUSTOMERS_OUTBOX_SWEEP_INTERVAL_S="3600",
    )
    service = ServiceProcess("customers", env, Path(tmp_path_factory.mktemp("logs")))
    service.start()
    try:
        service.wait_ready()
        asyncio.run(consuming(bootstrap, group))
        yield Running(service.url, group, database, leftover, before)
    finally:
        service.stop()
        asyncio.run(drop(mongodb_url, database))


async def drop(mongodb_url: str, database: str) -> None:
    client = connect(mongodb_url)
    try:
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture
async def events(customers: Running, kafka_bootstrap_servers: str) -> AsyncIterator[Events]:
    """customers.events.v1 from the moment the test started, filtered to a new workspace."""
    start = await end_offsets(kafka_bootstrap_servers, topics.CUSTOMERS_EVENTS)
    tap = await Events.from_offsets(kafka_bootstrap_servers, start, random_ref("ws"))
    try:
        yield tap
    finally:
        await tap.stop()


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
    customers: Running, events: Events, kafka_bootstrap_servers: str
) -> None:
    url, ws = customers.url, events.workspace
    karim = create(url, ws, name="Karim", phones=["06.12.34.56.78"])
    bsuid = {"kind": "bsuid", "value": "MA.771", "scope": PHONE_NUMBER_ID}
    youssef = create(url, ws, name="Youssef", identities=[bsuid])
    twins = [create(url, ws, name=n, phones=["0698765432"]) for n in ("Nadia", "Nadia B")]
    unknown = a_message_from(ws, wa_id="212655555555", profile_name="Salma")
    known = a_message_from(ws, wa_id="212612345678")
    bsuid_only = a_message_from(ws, wa_id=None, user_id="MA.771")
    shared = a_message_from(ws, wa_id="212698765432")
    sent = await produce(
        kafka_bootstrap_servers, topics.WHATSAPP_INBOUND, unknown, known, bsuid_only, shared
    )
    async with Groups(kafka_bootstrap_servers) as groups:
        await groups.wait_until_consumed(f"{customers.group}.inbound", sent)
    await events.matched(unknown.data.conversation_key, outcome="unknown", profile_name="Salma")
    await events.matched(known.data.conversation_key, outcome="known", customer_id=karim)
    await events.matched(bsuid_only.data.conversation_key, outcome="known", customer_id=youssef)
    await events.matched(
        shared.data.conversation_key, outcome="duplicates", candidate_ids=sorted(twins)
    )
    lookup = get(url, ws, "/customers/lookup", phone="06 55 55 55 55")
    assert (lookup["outcome"], lookup["contact"]["profile_name"]) == ("unknown", "Salma")


async def test_merge_then_lookup_answers_the_survivor(customers: Running, events: Events) -> None:
    url, ws = customers.url, events.workspace
    survivor = create(url, ws, name="Karim", phones=["0612345678"])
    absorbed = create(url, ws, name="K.", phones=["+212 6 12 34 56 78", "0677777777"])
    assert get(url, ws, "/customers/lookup", phone="0612345678")["outcome"] == "duplicates"
    response = httpx.post(
        f"{url}/customers/{survivor}/merge",
        json={"absorbed_ids": [absorbed]},
        headers=token_for(ws),
    )
    assert response.status_code == 200, response.text
    for phone in ("0612345678", "+212677777777"):
        lookup = get(url, ws, "/customers/lookup", phone=phone)
        assert (lookup["outcome"], lookup["customer"]["customer_id"]) == ("known", survivor)
    assert get(url, ws, f"/customers/{absorbed}")["customer_id"] == survivor
    merged = await events.wait_for(lambda e: e["type"] == "customers.customer.merged")
    assert merged["data"]["absorbed_ids"] == [absorbed]


async def test_stats_after_created_cancelled_and_redelivered_events(
    customers: Running, events: Events, kafka_bootstrap_servers: str
) -> None:
    url, ws = customers.url, events.workspace
    customer_id = create(url, ws, name="Karim", phones=["0612345678"])
    kept, placed = an_order(customer_id, total="249.90"), an_order(customer_id, total="120.00")
    stage = placed.stage.model_copy(update={"state": "cancelled"})
    cancelled = placed.model_copy(update={"version": 2, "stage": stage})
    sent = await produce(
        kafka_bootstrap_servers,
        topics.ORDERS_EVENTS,
        order_created(ws, kept),
        order_created(ws, placed),
        order_cancelled(ws, cancelled),
        order_created(ws, placed),  # a redelivery of an older version, after the newer one
    )
    async with Groups(kafka_bootstrap_servers) as groups:
        await groups.wait_until_consumed(f"{customers.group}.orders", sent)
    stats = get(url, ws, f"/customers/{customer_id}")["stats"]
    assert (stats["orders_count"], stats["not_spent_count"]) == (2, 1)
    assert Decimal(stats["total_spent"]) == Decimal("249.90")


async def test_an_event_a_crash_left_pending_is_published_at_start_up(
    customers: Running, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    leftover, bootstrap = customers.leftover, kafka_bootstrap_servers
    tap = await Events.from_offsets(bootstrap, customers.events_before_start, leftover.workspaceid)
    try:
        published = await tap.wait_for(lambda e: e["id"] == leftover.id)
    finally:
        await tap.stop()
    assert (published["type"], published["subject"]) == (leftover.type, leftover.subject)
    assert [e["id"] for e in tap.seen] == [leftover.id]
    client = connect(mongodb_url)
    try:
        outbox = Store(client[customers.database]).customers.outbox
        deadline = time.monotonic() + 30
        while await outbox.pending(str(leftover.subject)):
            assert time.monotonic() < deadline, "published but never marked as such"
            await asyncio.sleep(0.1)
    finally:
        await client.close()
