"""The consumer pipeline: typed events to handlers, anything unreadable to the dead-letter topic."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.contracts.deadletters import (
    DeadLettersEvent,
    EventDeadLettered,
    EventDeadLetteredEvent,
)
from hanout_shared.contracts.envelope import CONTENT_TYPE, CloudEvent, UnknownEvent
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import ensure_topics, make_broker

# Any small contract serves as the topic's event here; the dead-letter event is one.
Sample = EventDeadLetteredEvent
TOPIC, DEADLETTERS = "test.samples.v1", "test.deadletter.v1"


def a_sample(workspace: str = "ws-1") -> Sample:
    return Sample.create(
        source="hanout/test",
        workspaceid=workspace,
        data=EventDeadLettered(
            reason="r",
            detail="d",
            service="s",
            group="g",
            topic="t",
            partition=0,
            offset=7,
            raw_text="x",
            received_at=datetime.now(UTC),
        ),
    )


def as_record(event: CloudEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


class Seen:
    def __init__(self) -> None:
        self.events: list[CloudEvent] = []
        self.batches: list[list[CloudEvent]] = []


def consumers_of(
    seen: Seen, registry: CollectorRegistry, *, batch: bool = False
) -> Consumers[Seen]:
    consumers: Consumers[Seen] = Consumers(
        service="test", group="test-group", deadletter_topic=DEADLETTERS, registry=registry
    )

    async def on_sample(event: Sample, deps: Seen) -> None:
        deps.events.append(event)

    async def on_samples(events: list[Sample], deps: Seen) -> None:
        deps.batches.append(list(events))

    if batch:
        consumers.subscribe_batch(TOPIC, DeadLettersEvent, [Sample], on_samples)
    else:
        consumers.subscribe(TOPIC, DeadLettersEvent, [Sample], on_sample)
    return consumers


def a_broker(seen: Seen, registry: CollectorRegistry, *, batch: bool = False) -> KafkaBroker:
    broker = make_broker("localhost:9092", client_id="test", registry=registry)
    broker.include_router(consumers_of(seen, registry, batch=batch).router)
    broker.context.set_global("deps", seen)
    return broker


def dead_lettered(registry: CollectorRegistry, reason: str) -> float:
    value = registry.get_sample_value(
        "hanout_dead_lettered_events_total", {"topic": TOPIC, "reason": reason}
    )
    return value or 0.0


async def test_a_handler_gets_the_typed_event() -> None:
    seen, registry, sample = Seen(), CollectorRegistry(), a_sample()
    broker = a_broker(seen, registry)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(as_record(sample), TOPIC, headers={"content-type": CONTENT_TYPE})
    assert seen.events == [sample]
    assert isinstance(seen.events[0], Sample)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "undecodable"),
        (b"\xff\xfe", "undecodable"),
        (
            json.dumps({"type": Sample.event_type(), "workspaceid": "ws-9"}).encode(),
            "invalid_event",
        ),
        (b"[1, 2]", "invalid_event"),
    ],
)
async def test_an_unreadable_record_goes_to_the_dead_letter_topic(body: bytes, reason: str) -> None:
    seen, registry = Seen(), CollectorRegistry()
    broker = a_broker(seen, registry)
    letters: list[dict[str, Any]] = []

    @broker.subscriber(DEADLETTERS)
    async def collect(letter: dict[str, Any]) -> None:
        letters.append(letter)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(body, TOPIC, key=b"k-1")
    assert seen.events == []
    [letter] = letters
    assert letter["type"] == "hanout.event.dead_lettered"
    data = letter["data"]
    assert data["reason"] == reason and data["detail"]
    assert (data["topic"], data["service"], data["group"], data["key"]) == (
        TOPIC,
        "test",
        "test-group",
        "k-1",
    )
    assert isinstance(data["partition"], int) and isinstance(data["offset"], int)
    assert data["raw_text"] == body.decode("utf-8", errors="replace")
    assert dead_lettered(registry, reason) == 1


async def test_other_kinds_on_the_topic_are_skipped_not_dead_lettered() -> None:
    seen, registry = Seen(), CollectorRegistry()
    broker = a_broker(seen, registry)
    other = UnknownEvent.create(source="hanout/test", workspaceid="ws-1", data={"x": 1})
    other = other.model_copy(update={"type": "test.something.else"})
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(as_record(other), TOPIC)
    assert seen.events == []
    assert dead_lettered(registry, "invalid_event") == 0


async def test_a_batch_keeps_its_good_records_and_dead_letters_the_bad_one() -> None:
    seen, registry = Seen(), CollectorRegistry()
    broker = a_broker(seen, registry, batch=True)
    first, second = a_sample(), a_sample()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            as_record(first), b"garbage", as_record(second), topic=TOPIC
        )
    assert seen.batches == [[first, second]]
    assert dead_lettered(registry, "undecodable") == 1


@pytest.mark.integration
async def test_on_the_real_broker_a_poison_record_lands_on_the_dead_letter_topic(
    kafka_bootstrap_servers: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    topic, deadletters = f"test.poison.{suffix}", f"test.poison.dlq.{suffix}"
    await ensure_topics(
        kafka_bootstrap_servers, partitions=1, replication=1, topics=[topic, deadletters]
    )
    seen, registry, letters, good = Seen(), CollectorRegistry(), [], asyncio.Event()
    consumers: Consumers[Seen] = Consumers(
        service="test", group=f"g-{suffix}", deadletter_topic=deadletters, registry=registry
    )

    async def on_sample(event: Sample, deps: Seen) -> None:
        deps.events.append(event)
        good.set()

    consumers.subscribe(topic, DeadLettersEvent, [Sample], on_sample)
    broker = make_broker(kafka_bootstrap_servers, client_id="poison-test", registry=registry)
    broker.include_router(consumers.router)
    broker.context.set_global("deps", seen)
    landed = asyncio.Event()

    @broker.subscriber(deadletters, group_id=f"dlq-{suffix}", auto_offset_reset="earliest")
    async def collect(letter: dict[str, Any]) -> None:
        letters.append(letter)
        landed.set()

    async with broker:
        await broker.start()
        await broker.publish(b"\x00 not an event", topic)
        await broker.publish(as_record(a_sample()), topic, headers={"content-type": CONTENT_TYPE})
        await asyncio.wait_for(asyncio.gather(landed.wait(), good.wait()), 30)
    [letter] = letters
    assert letter["data"]["reason"] == "undecodable"
    assert (letter["data"]["topic"], letter["data"]["partition"], letter["data"]["offset"]) == (
        topic,
        0,
        0,
    )
    assert len(seen.events) == 1
