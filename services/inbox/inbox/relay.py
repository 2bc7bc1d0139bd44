"""The outbox relay: publishes what a request stored with its change, and sweeps for leftovers."""

import asyncio
import contextlib
import logging

from faststream.kafka import KafkaBroker

from hanout_shared.platform.kafka import publish_event
from inbox.handlers import ADAPTERS, PUBLISHERS
from inbox.model import OutboxItem
from inbox.store.documents import Outbox

logger = logging.getLogger("hanout.inbox")


class OutboxRelay:
    """Publishes what a request left in a document's outbox, and sweeps for leftovers."""

    def __init__(
        self, outboxes: list[Outbox], broker: KafkaBroker, *, interval_s: float, timeout_s: float
    ) -> None:
        self._outboxes, self._broker = outboxes, broker
        self._interval_s, self._timeout_s = interval_s, timeout_s
        # Documents this process is publishing now: the sweep leaves them to the request that
        # wrote them, or it would publish the same events twice (at least once, not twice).
        self._busy: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, outbox: Outbox, doc_id: str) -> bool:
        """Publish one document's events; False (logged) when Kafka did not take them in time."""
        if doc_id in self._busy:
            return True
        self._busy.add(doc_id)
        try:
            await asyncio.wait_for(self._drain(outbox, doc_id), self._timeout_s)
        except Exception:  # the events stay in the outbox: the sweep retries them
            logger.warning("events left in the outbox", extra={"doc_id": doc_id}, exc_info=True)
            return False
        finally:
            self._busy.discard(doc_id)
        return True

    async def _drain(self, outbox: Outbox, doc_id: str) -> None:
        published: list[OutboxItem] = []
        try:
            for item in await outbox.pending(doc_id):
                event = ADAPTERS[item.topic].validate_python(item.body)
                await publish_event(PUBLISHERS[item.topic], event)
                published.append(item)
        finally:
            if published:
                await outbox.clear(doc_id, published)

    async def sweep(self, batch: int = 500) -> int:
        """Publish every leftover; how many documents still hold some."""
        stuck = 0
        for outbox in self._outboxes:
            for doc_id in await outbox.holders(batch):
                stuck += not await self.publish(outbox, doc_id)
        return stuck

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not await self._broker.ping(timeout=1.0):
            await asyncio.sleep(0.2)  # the lifespan starts the broker right after the hooks
        while True:
            try:
                await self.sweep()
            except Exception:  # a store outage: keep sweeping once it is back
                logger.warning("outbox sweep failed", exc_info=True)
            await asyncio.sleep(self._interval_s)
