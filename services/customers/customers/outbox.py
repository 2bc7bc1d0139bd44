"""The outbox relay: publishes the events each write left on its card, and sweeps for leftovers."""

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher

from customers.store import Outbox
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.kafka import publish_event

logger = logging.getLogger("hanout.customers.outbox")


class OutboxRelay:
    """A write stores the card and its events in one update; then the relay publishes them and
    removes them. A Kafka outage or a crash in between leaves them on the card, and the sweep
    (at start-up, then every `interval_s`) publishes them: at least once, in order per card,
    always under the id they were written with, so consumers drop a second copy."""

    def __init__(
        self,
        outbox: Outbox,
        publisher: DefaultPublisher,
        broker: KafkaBroker,
        *,
        interval_s: float,
        timeout_s: float,
    ) -> None:
        self._outbox, self._publisher, self._broker = outbox, publisher, broker
        self._interval_s, self._timeout_s = interval_s, timeout_s
        self._busy: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, customer_ids: Sequence[str]) -> bool:
        """Publish these cards' pending events; False (logged) if Kafka did not take them all."""
        ids = list(dict.fromkeys(customer_ids))
        self._busy.update(ids)
        try:
            await asyncio.wait_for(self._drain(ids), self._timeout_s)
        except Exception:  # the events stay on their cards: the sweep retries them
            logger.warning("customer events left pending", extra={"cards": ids[:20]}, exc_info=True)
            return False
        finally:
            self._busy.difference_update(ids)
        return True

    async def _drain(self, customer_ids: list[str]) -> None:
        published: list[str] = []
        pending = await self._outbox.pending(customer_ids)
        try:
            results = await asyncio.gather(
                *(self._send(events, published) for events in pending.values()),
                return_exceptions=True,
            )
        finally:
            if published:
                await self._outbox.mark_published(list(pending), published)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _send(self, events: list[CloudEvent], published: list[str]) -> None:
        for event in events:  # one card's events one after the other: they stay in order
            await publish_event(self._publisher, event)
            published.append(event.id)

    async def sweep(self, batch: int = 100, rounds: int = 100) -> int:
        """Publish what earlier writes left pending, a batch of cards at a time (cards a request
        is publishing are left to it); 0 when done, else how many cards Kafka left pending."""
        for _ in range(rounds):  # bounded: the next sweep goes on where this one stopped
            found = await self._outbox.cards_with_pending(batch)
            cards = [card for card in found if card not in self._busy]
            if not cards:
                return 0
            if not await self.publish(cards):
                return len(cards)
        return 0

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
