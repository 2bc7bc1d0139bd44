"""The outbox on the real store: every event published once, in order, and nothing lost."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.collection import AsyncCollection

from devtools.scratch import scratch_database
from hanout_shared.contracts.deadletters import EventDeadLettered, EventDeadLetteredEvent
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.outbox import Outbox, OutboxRelay, outbox_entries

pytestmark = pytest.mark.integration
TOPIC = "test.things.v1"


class SlowPublisher:
    """Records what it is given, yielding on each publish so concurrent drains interleave."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.ids: list[str] = []
        self.fail_after = fail_after

    async def publish(self, body: dict[str, Any], **_: Any) -> None:
        await asyncio.sleep(0.01)
        if self.fail_after is not None and len(self.ids) >= self.fail_after:
            raise ConnectionError("Kafka is away")
        self.ids.append(body["id"])


def an_event(n: int) -> CloudEvent:
    return EventDeadLetteredEvent.create(
        source="hanout/test",
        workspaceid="ws-1",
        subject="doc-1",
        id=f"event-{n}",
        data=EventDeadLettered(
            reason="r",
            detail="d",
            service="s",
            group="g",
            topic="t",
            partition=0,
            offset=n,
            raw_text="x",
            received_at=datetime.now(UTC),
        ),
    )


@pytest.fixture
async def things(mongodb_url: str) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    async with scratch_database(mongodb_url, "outbox_test") as db:
        yield db["things"]


def a_relay(outbox: Outbox, publisher: SlowPublisher) -> OutboxRelay:
    return OutboxRelay(
        [outbox],
        {TOPIC: publisher},  # type: ignore[dict-item]
        KafkaBroker(),
        interval_s=60,
        timeout_s=5,
        registry=CollectorRegistry(),
    )


async def a_document_with_events(
    things: AsyncCollection[dict[str, Any]], count: int
) -> tuple[Outbox, list[CloudEvent]]:
    outbox = Outbox(things)
    await outbox.ensure_indexes()
    events = [an_event(n) for n in range(count)]
    await things.insert_one({"_id": "doc-1", "outbox": outbox_entries(TOPIC, events)})
    return outbox, events


async def test_concurrent_drains_of_one_document_publish_each_event_once(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox, events = await a_document_with_events(things, 5)
    publisher = SlowPublisher()
    relay = a_relay(outbox, publisher)
    results = await asyncio.gather(*(relay.publish(outbox, "doc-1") for _ in range(8)))
    assert all(results)
    assert publisher.ids == [event.id for event in events]
    assert await outbox.pending("doc-1") == []


async def test_what_kafka_did_not_take_stays_and_the_sweep_publishes_it(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox, events = await a_document_with_events(things, 4)
    failing = SlowPublisher(fail_after=2)
    assert not await a_relay(outbox, failing).publish(outbox, "doc-1")
    assert [entry["id"] for entry in await outbox.pending("doc-1")] == ["event-2", "event-3"]
    later = SlowPublisher()
    relay = a_relay(outbox, later)
    assert await relay.sweep(settled_s=0) == 0
    assert later.ids == ["event-2", "event-3"]
    assert await outbox.pending("doc-1") == []


async def test_an_inserted_documents_entries_go_out_as_written_and_what_failed_stays(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox = Outbox(things)
    await outbox.ensure_indexes()
    entries = outbox_entries(TOPIC, [an_event(n) for n in range(3)])
    await things.insert_one({"_id": "doc-1", "outbox": entries})
    failing = SlowPublisher(fail_after=2)
    assert not await a_relay(outbox, failing).publish_inserted(outbox, "doc-1", entries)
    assert failing.ids == ["event-0", "event-1"]
    assert [entry["id"] for entry in await outbox.pending("doc-1")] == ["event-2"]
    later = SlowPublisher()
    assert await a_relay(outbox, later).sweep(settled_s=0) == 0
    assert later.ids == ["event-2"]
    assert await outbox.pending("doc-1") == []


async def test_an_inserted_documents_entries_are_removed_once_published(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox = Outbox(things)
    entries = outbox_entries(TOPIC, [an_event(n) for n in range(2)])
    await things.insert_one({"_id": "doc-1", "outbox": entries})
    publisher = SlowPublisher()
    assert await a_relay(outbox, publisher).publish_inserted(outbox, "doc-1", entries)
    assert publisher.ids == ["event-0", "event-1"]
    assert await outbox.pending("doc-1") == []


async def test_documents_published_together_are_all_cleared(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox = Outbox(things)
    written = {
        f"doc-{n}": outbox_entries(TOPIC, [an_event(10 * n + k) for k in range(2)])
        for n in range(12)
    }
    await things.insert_many([{"_id": doc_id, "outbox": e} for doc_id, e in written.items()])
    publisher = SlowPublisher()
    relay = a_relay(outbox, publisher)
    sent = [relay.publish_inserted(outbox, doc_id, e) for doc_id, e in written.items()]
    assert all(await asyncio.gather(*sent))
    assert sorted(publisher.ids) == sorted(e["id"] for es in written.values() for e in es)
    assert [await outbox.pending(doc_id) for doc_id in written] == [[]] * len(written)


async def test_the_sweep_leaves_fresh_entries_to_the_request_that_wrote_them(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox, _ = await a_document_with_events(things, 2)
    publisher = SlowPublisher()
    assert await a_relay(outbox, publisher).sweep() == 0
    assert publisher.ids == []
    assert len(await outbox.pending("doc-1")) == 2


async def test_one_replica_at_a_time_sweeps_a_document(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox, events = await a_document_with_events(things, 3)
    one, other = SlowPublisher(), SlowPublisher()
    await asyncio.gather(
        a_relay(outbox, one).sweep(settled_s=0), a_relay(outbox, other).sweep(settled_s=0)
    )
    assert sorted(one.ids + other.ids) == sorted(event.id for event in events)


async def test_the_backlog_metric_counts_pending_events_and_their_age(
    things: AsyncCollection[dict[str, Any]],
) -> None:
    outbox, _ = await a_document_with_events(things, 3)
    registry = CollectorRegistry()
    relay = OutboxRelay(
        [outbox],
        {TOPIC: SlowPublisher(fail_after=0)},  # type: ignore[dict-item]
        KafkaBroker(),
        interval_s=60,
        timeout_s=5,
        registry=registry,
    )
    await relay.sweep(settled_s=0)
    labels = {"collection": "things"}
    assert registry.get_sample_value("hanout_outbox_pending_events", labels) == 3
    age = registry.get_sample_value("hanout_outbox_oldest_pending_seconds", labels)
    assert age is not None and age >= 0
