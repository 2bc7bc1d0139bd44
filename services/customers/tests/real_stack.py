"""The shared broker as the customers integration tests see it: private consumer groups, records
sent the way real producers send them, and waits that follow the service's own progress."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hanout_shared.contracts import CloudEvent
from hanout_shared.contracts.envelope import CONTENT_TYPE

# The shared broker carries every helper's traffic, which the service reads before it reaches a
# test's records (about 100 records/s on this loaded 2-core machine). A consumer that does not
# move for STALL_S is stuck: a real failure. One that moves may take up to BACKLOG_S.
STALL_S = 45.0
BACKLOG_S = 300.0
Offsets = dict[TopicPartition, int]
Event = dict[str, Any]


async def end_offsets(bootstrap: str, topic: str) -> Offsets:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        ends: Offsets = await consumer.end_offsets(parts)
        return ends
    finally:
        await consumer.stop()


async def start_at_the_end(bootstrap: str, group: str, topic: str) -> None:
    """A new group reads from the earliest: other runs' messages first. Skip them."""
    ends = await end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(ends)
    finally:
        await consumer.stop()


class Groups:
    """The service's consumer groups, watched through the admin API."""

    def __init__(self, bootstrap: str) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)

    async def __aenter__(self) -> "Groups":
        await self._admin.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()

    async def wait_until_consuming(self, group: str, timeout: float = 60.0) -> None:
        """Until the group has a member and its partitions are assigned."""
        deadline = time.monotonic() + timeout
        while (state := await self._state(group)) != ("Stable", True):
            assert time.monotonic() < deadline, f"group {group} never got going: {state}"
            await asyncio.sleep(0.2)

    async def _state(self, group: str) -> tuple[str, bool]:
        [response] = await self._admin.describe_consumer_groups([group])
        _, _, state, _, _, members = response.groups[0]
        return state, bool(members)

    async def wait_until_consumed(self, group: str, records: Offsets) -> None:
        """Until the group has committed past these records: the service handled them, and
        published what they made it publish (it commits after the handler). Fails if the
        service stops moving: a stuck consumer is a real failure, a backlog is not."""
        for partition, offset in records.items():
            started = moved_at = time.monotonic()
            last = -1
            while (done := await self._committed(group, partition)) <= offset:
                now = time.monotonic()
                if done != last:
                    last, moved_at = done, now
                behind = f"{group} at {done} on {partition}, waiting for {offset}"
                assert now - moved_at < STALL_S, f"the service is stuck: {behind}"
                assert now - started < BACKLOG_S, f"the service is too slow: {behind}"
                await asyncio.sleep(0.2)

    async def _committed(self, group: str, partition: TopicPartition) -> int:
        offsets = await self._admin.list_consumer_group_offsets(group, partitions=[partition])
        found = offsets.get(partition)
        return found.offset if found else -1


async def produce(bootstrap: str, topic: str, *events: CloudEvent) -> Offsets:
    """Send in order, as structured-mode CloudEvents like every producer of the platform; the
    offset of the last record sent to each partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    headers = [("content-type", CONTENT_TYPE.encode())]
    last: Offsets = {}
    try:
        for event in events:
            body = json.dumps(event.model_dump(mode="json", exclude_none=True)).encode()
            sent = await producer.send_and_wait(topic, body, key=event.key(), headers=headers)
            last[TopicPartition(topic, sent.partition)] = sent.offset
    finally:
        await producer.stop()
    return last


class Events:
    """A topic's events of one workspace, from given offsets on."""

    def __init__(self, consumer: AIOKafkaConsumer, workspace: str) -> None:
        self.consumer, self.workspace = consumer, workspace
        self.seen: list[Event] = []

    @classmethod
    async def from_offsets(cls, bootstrap: str, start: Offsets, workspace: str) -> "Events":
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        consumer.assign(list(start))
        for partition, offset in start.items():
            consumer.seek(partition, offset)
        return cls(consumer, workspace)

    async def stop(self) -> None:
        await self.consumer.stop()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 30.0) -> Event:
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

    async def matched(self, conversation_key: str, **expected: Any) -> Event:
        """The conversation's `customers.contact.matched` that says what `expected` says. Other
        customers deployments on the shared broker read the same inbound messages and publish
        their own match (from their own cards, so "unknown"): ours is the one naming our cards."""

        def ours(event: Event) -> bool:
            data = event["data"]
            return (
                event["type"] == "customers.contact.matched"
                and event["subject"] == conversation_key
                and all(data.get(field) == value for field, value in expected.items())
            )

        return await self.wait_for(ours)
