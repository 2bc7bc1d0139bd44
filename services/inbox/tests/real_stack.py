"""The real broker and the inbox's API as tests see them: feed topics, tap them, poll the API."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devtools.groups import start_groups_at_end
from hanout_shared.contracts import CloudEvent
from inbox.kafka import durable_groups

from .conftest import token_for

DEADLINE_S = 60.0


async def skip_history(bootstrap: str, group: str, wait_s: float = 120.0) -> None:
    """Start the inbox's groups at the end of their topics: the shared broker holds other runs'
    messages, which the inbox would otherwise read from the earliest first."""
    await start_groups_at_end(bootstrap, durable_groups(group), wait_s=wait_s)


async def publish(bootstrap: str, topic: str, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            body = event.model_dump_json(exclude_none=True).encode()
            await producer.send_and_wait(topic, body, key=event.key())
    finally:
        await producer.stop()


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {DEADLINE_S} s")


class Tap:
    """Reads a topic from its current end: what is published after the tap started."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap, self._topic = bootstrap, topic
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        self.records: list[dict[str, Any]] = []

    async def start(self) -> None:
        await self._consumer.start()
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap)
        await producer.start()
        try:  # the producer waits for metadata the consumer's cache may lack
            partitions = [
                TopicPartition(self._topic, p) for p in await producer.partitions_for(self._topic)
            ]
        finally:
            await producer.stop()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self._consumer.position(partition)

    async def read(self, workspace_id: str) -> list[dict[str, Any]]:
        batch = await self._consumer.getmany(timeout_ms=200)
        self.records += [json.loads(r.value) for rs in batch.values() for r in rs]
        return [r for r in self.records if r.get("workspaceid") == workspace_id]

    async def stop(self) -> None:
        await self._consumer.stop()


class Agent:
    def __init__(self, url: str, workspace_id: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, headers=token_for(workspace_id), timeout=10)
        self.workspace_id = workspace_id

    async def rows(self, **params: str) -> list[dict[str, Any]]:
        response = await self.http.get("/conversations", params=params | {"limit": "200"})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def names(self, **params: str) -> list[str]:
        return [row["display_name"] for row in await self.rows(**params)]

    async def send(self, conversation: str, content: dict[str, Any], key: str) -> httpx.Response:
        return await self.http.post(
            f"/conversations/{conversation}/messages",
            json={"content": content},
            headers={"Idempotency-Key": key},
        )
