"""The one outbox: events stored in the same document update as the change they announce, and the
relay that publishes them after the write and sweeps for what a crash or an outage left behind."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher
from prometheus_client import CollectorRegistry, Gauge
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.kafka import publish_event
from hanout_shared.platform.periodic import Periodic
from hanout_shared.platform.trips import Trips

logger = logging.getLogger("hanout.outbox")

Document = dict[str, Any]
FIELD = "outbox"
LEASE_FIELD = "outbox_lease"
BACKLOG_SAMPLE = 1000


def outbox_entries(topic: str, events: Sequence[CloudEvent]) -> list[Document]:
    """How a write stores its events (the document's `outbox` array), in publishing order, each
    as it goes on the wire (no null fields at any depth)."""
    at = datetime.now(UTC)
    return [
        {
            "id": event.id,
            "topic": topic,
            "at": at,
            "event": event.model_dump(mode="json", exclude_none=True),
        }
        for event in events
    ]


# A cleared document: its id and the entries published from it.
Cleared = tuple[str, list[Document]]


class Outbox:
    """The `outbox` arrays of one collection: read and emptied by the relay only."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._c = collection
        self.name = collection.name
        self._clears: Trips[None, Cleared, None] = Trips(self._pull_all)

    async def ensure_indexes(self) -> None:
        await self._c.create_index(f"{FIELD}.id", sparse=True)
        await self._c.create_index(f"{FIELD}.at", sparse=True)

    async def pending(self, doc_id: str) -> list[Document]:
        doc = await self._c.find_one({"_id": doc_id}, {FIELD: 1})
        return list((doc or {}).get(FIELD, []))

    async def clear(self, doc_id: str, entries: Sequence[Document]) -> None:
        """Remove these entries, whole: one a later write added meanwhile stays (`$pullAll` of
        exact values works on every store). Clears asked while one is under way go together in
        the next write: one round trip for many published documents, not one each."""
        await self._clears.run(None, (doc_id, list(entries)))

    async def _pull_all(self, _: None, cleared: list[Cleared]) -> list[None]:
        pulls = [UpdateOne({"_id": doc_id}, {"$pullAll": {FIELD: e}}) for doc_id, e in cleared]
        await self._c.bulk_write(pulls, ordered=False)
        return [None] * len(cleared)

    async def stale(self, older_than: datetime, limit: int) -> list[str]:
        """Documents holding an entry written before `older_than`: left by a crash or an outage."""
        query = {f"{FIELD}.at": {"$lt": older_than}}
        return [doc["_id"] async for doc in self._c.find(query, {"_id": 1}).limit(limit)]

    async def claim(self, doc_id: str, until: datetime) -> bool:
        """Take the document for one sweep among replicas; False when another replica holds it."""
        now = datetime.now(UTC)
        query = {"_id": doc_id, LEASE_FIELD: {"$not": {"$gt": now}}}
        result = await self._c.update_one(query, {"$set": {LEASE_FIELD: until}})
        return result.modified_count == 1

    async def backlog(self) -> tuple[int, datetime | None]:
        """Entries pending (in a sample of the documents holding some) and the oldest's time."""
        cursor = self._c.find({f"{FIELD}.id": {"$exists": True}}, {f"{FIELD}.at": 1})
        times = [e["at"] async for doc in cursor.limit(BACKLOG_SAMPLE) for e in doc[FIELD]]
        return len(times), min(times, default=None)


class _Turns:
    """One drain per document at a time in this process: two at once would both publish the
    entries neither has removed yet."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def of(self, doc_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(doc_id, (asyncio.Lock(), 0))
        self._locks[doc_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[doc_id]
            if users == 1:
                del self._locks[doc_id]
            else:
                self._locks[doc_id] = (lock, users - 1)


class OutboxRelay:
    """Publishes a document's entries right after the write that stored them, in order, and
    removes them once Kafka has them. What a crash or an outage leaves is published by the
    sweep (at start-up, then every `interval_s`): at least once, never lost, always under the
    id it was written with, so consumers drop a second copy.

    Within a process one drain per document runs at a time. Across replicas the sweep takes
    only entries older than the publish timeout (a request's own drain has ended by then) and
    claims each document with a lease, so two replicas do not drain it together.
    """

    def __init__(
        self,
        outboxes: Sequence[Outbox],
        publishers: Mapping[str, DefaultPublisher],
        broker: KafkaBroker,
        *,
        interval_s: float,
        timeout_s: float,
        registry: CollectorRegistry,
    ) -> None:
        self._outboxes, self._publishers, self._broker = list(outboxes), publishers, broker
        self._timeout_s = timeout_s
        self._turns = _Turns()
        self._sweeps = Periodic("outbox sweep", interval_s, self.sweep, ready=self._broker_ready)
        self._pending = Gauge(
            "hanout_outbox_pending_events",
            f"Events waiting to be published (counted in up to {BACKLOG_SAMPLE} documents)",
            ["collection"],
            registry=registry,
        )
        self._age = Gauge(
            "hanout_outbox_oldest_pending_seconds",
            "Age of the oldest event waiting to be published (0 when none)",
            ["collection"],
            registry=registry,
        )

    async def publish(self, outbox: Outbox, doc_ids: str | Sequence[str]) -> bool:
        """Publish these documents' entries; False (logged) when Kafka did not take them all in
        time: they stay in the outbox for the sweep."""
        ids = [doc_ids] if isinstance(doc_ids, str) else list(dict.fromkeys(doc_ids))
        drains = asyncio.gather(*(self._drain(outbox, doc_id) for doc_id in ids))
        return await self._in_time(drains, outbox, ids)

    async def publish_inserted(
        self, outbox: Outbox, doc_id: str, entries: Sequence[Document]
    ) -> bool:
        """Publish the entries of a document just inserted, as written, without reading them
        back: a new document has no older entry to go first. False (logged) as `publish`."""
        return await self._in_time(self._send(outbox, doc_id, entries), outbox, [doc_id])

    async def _in_time(self, sending: Awaitable[Any], outbox: Outbox, ids: list[str]) -> bool:
        try:
            await asyncio.wait_for(sending, self._timeout_s)
        except Exception:  # the entries stay in the outbox: the sweep retries them
            logger.warning(
                "events left in the outbox",
                extra={"collection": outbox.name, "documents": ids[:20]},
                exc_info=True,
            )
            return False
        return True

    async def _drain(self, outbox: Outbox, doc_id: str) -> None:
        async with self._turns.of(doc_id):
            await self._publish_entries(outbox, doc_id, await outbox.pending(doc_id))

    async def _send(self, outbox: Outbox, doc_id: str, entries: Sequence[Document]) -> None:
        async with self._turns.of(doc_id):
            await self._publish_entries(outbox, doc_id, entries)

    async def _publish_entries(
        self, outbox: Outbox, doc_id: str, entries: Sequence[Document]
    ) -> None:
        """In order, then removed: those Kafka took, even when a later one failed."""
        published: list[Document] = []
        try:
            for entry in entries:
                event = CloudEvent.model_validate(entry["event"])
                await publish_event(self._publishers[entry["topic"]], event)
                published.append(entry)
        finally:
            if published:
                await outbox.clear(doc_id, published)

    async def sweep(self, batch: int = 500, *, settled_s: float | None = None) -> int:
        """Publish what earlier writes left, once older than `settled_s` (default: the publish
        timeout); how many documents still hold entries."""
        settled = self._timeout_s if settled_s is None else settled_s
        older_than = datetime.now(UTC) - timedelta(seconds=settled)
        lease = datetime.now(UTC) + timedelta(seconds=self._timeout_s * 2)
        stuck = 0
        for outbox in self._outboxes:
            for doc_id in await outbox.stale(older_than, batch):
                if await outbox.claim(doc_id, lease):
                    stuck += not await self.publish(outbox, doc_id)
            await self._measure(outbox)
        return stuck

    async def _measure(self, outbox: Outbox) -> None:
        count, oldest = await outbox.backlog()
        self._pending.labels(collection=outbox.name).set(count)
        age = (datetime.now(UTC) - oldest.replace(tzinfo=UTC)).total_seconds() if oldest else 0
        self._age.labels(collection=outbox.name).set(max(age, 0.0))

    async def start(self) -> None:
        await self._sweeps.start()

    async def stop(self) -> None:
        await self._sweeps.stop()

    async def _broker_ready(self) -> bool:
        return bool(await self._broker.ping(timeout=1.0))  # the lifespan starts it after the hooks
