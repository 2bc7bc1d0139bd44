"""At-least-once consumption on the real broker: a failed handler is retried, and a message a
consumer took but never finished is delivered again to the next member of its group."""

import asyncio
import uuid
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from prometheus_client import CollectorRegistry

from hanout_shared.platform.kafka import ensure_topics, make_broker

pytestmark = pytest.mark.integration


async def a_topic(bootstrap: str) -> str:
    name = f"test.delivery.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, partitions=1, replication=1, topics=[name])
    return name


def a_broker(bootstrap: str) -> KafkaBroker:
    return make_broker(bootstrap, client_id="delivery-test", registry=CollectorRegistry())


async def test_a_handler_that_fails_gets_the_message_again(kafka_bootstrap_servers: str) -> None:
    topic, attempts, done = await a_topic(kafka_bootstrap_servers), [], asyncio.Event()
    broker = a_broker(kafka_bootstrap_servers)

    @broker.subscriber(
        topic,
        group_id=f"g-{topic}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def handle(body: dict[str, Any]) -> None:
        attempts.append(body["n"])
        if len(attempts) == 1:
            raise RuntimeError("store briefly unavailable")
        done.set()

    async with broker:
        await broker.start()
        await broker.publish({"n": 1}, topic)
        await asyncio.wait_for(done.wait(), 30)
    assert attempts == [1, 1]


async def test_an_unfinished_message_goes_to_the_next_group_member(
    kafka_bootstrap_servers: str,
) -> None:
    topic = await a_topic(kafka_bootstrap_servers)
    group, taken, stuck, finished = f"g-{topic}", asyncio.Event(), asyncio.Event(), []

    first = a_broker(kafka_bootstrap_servers)

    @first.subscriber(
        topic, group_id=group, ack_policy=AckPolicy.NACK_ON_ERROR, auto_offset_reset="earliest"
    )
    async def hang(body: dict[str, Any]) -> None:
        taken.set()
        await stuck.wait()  # never set: the consumer is stopped mid-handler, like a crash

    await first.start()
    await first.publish({"n": 7}, topic)
    await asyncio.wait_for(taken.wait(), 30)
    await first.stop()

    second, done = a_broker(kafka_bootstrap_servers), asyncio.Event()

    @second.subscriber(
        topic, group_id=group, ack_policy=AckPolicy.NACK_ON_ERROR, auto_offset_reset="earliest"
    )
    async def finish(body: dict[str, Any]) -> None:
        finished.append(body["n"])
        done.set()

    async with second:
        await second.start()
        await asyncio.wait_for(done.wait(), 60)
    assert finished == [7]


async def test_a_published_cloudevent_reaches_a_typed_handler_as_its_model(
    kafka_bootstrap_servers: str,
) -> None:
    from datetime import UTC, datetime

    from hanout_shared.contracts.customers import ContactMatched, ContactMatchedEvent
    from hanout_shared.platform.kafka import publish_event

    topic, received = await a_topic(kafka_bootstrap_servers), asyncio.Queue[object]()
    broker = a_broker(kafka_bootstrap_servers)
    publisher = broker.publisher(topic)

    @broker.subscriber(
        topic,
        group_id=f"g-{topic}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def handle(event: ContactMatchedEvent) -> None:
        await received.put(event)

    sent = ContactMatchedEvent.create(
        source="hanout/test",
        workspaceid="ws-1",
        subject="ws-1:pn:212612345678",
        time=datetime.now(UTC),
        data=ContactMatched(conversation_key="ws-1:pn:212612345678", outcome="unknown"),
    )
    async with broker:
        await broker.start()
        await publish_event(publisher, sent)
        got = await asyncio.wait_for(received.get(), 30)
    assert got == sent


async def test_a_batch_subscriber_gets_every_published_cloudevent_decoded(
    kafka_bootstrap_servers: str,
) -> None:
    from datetime import UTC, datetime

    from hanout_shared.contracts.customers import ContactMatched, ContactMatchedEvent
    from hanout_shared.platform.kafka import publish_event

    topic, seen = await a_topic(kafka_bootstrap_servers), list[str]()
    broker, done = a_broker(kafka_bootstrap_servers), asyncio.Event()
    publisher = broker.publisher(topic)

    @broker.subscriber(
        topic,
        group_id=f"g-{topic}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        batch=True,
        max_records=50,
    )
    async def handle(bodies: list[dict[str, Any]]) -> None:
        seen.extend(ContactMatchedEvent.model_validate(body).id for body in bodies)
        if len(seen) >= 3:
            done.set()

    events = [
        ContactMatchedEvent.create(
            source="hanout/test",
            workspaceid="ws-1",
            subject=f"ws-1:pn:{n}",
            time=datetime.now(UTC),
            data=ContactMatched(conversation_key=f"ws-1:pn:{n}", outcome="unknown"),
        )
        for n in range(3)
    ]
    async with broker:
        await broker.start()
        for event in events:
            await publish_event(publisher, event)
        await asyncio.wait_for(done.wait(), 30)
    assert seen == [event.id for event in events]
