"""A reader of one topic from its end at start: what other teams see of the journeys."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


class Tap:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        self.events: list[dict[str, Any]] = []

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()
        found = self._consumer.partitions_for_topic(self._topic) or {0}
        parts = [TopicPartition(self._topic, p) for p in found]
        self._consumer.assign(parts)
        await self._consumer.seek_to_end(*parts)
        for part in parts:  # resolve the end now, before the journeys publish
            await self._consumer.position(part)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def read(self, workspace_id: str) -> list[dict[str, Any]]:
        """Everything published so far for this workspace (structured CloudEvents)."""
        batch = await self._consumer.getmany(timeout_ms=100)
        for records in batch.values():
            for record in records:
                try:
                    self.events.append(json.loads(record.value))
                except ValueError:
                    continue
        return [event for event in self.events if event.get("workspaceid") == workspace_id]
