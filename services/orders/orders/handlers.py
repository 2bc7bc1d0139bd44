"""Kafka side of orders: the customer-merge consumer and the outbox relay of order events."""

import asyncio
import contextlib
import logging
from typing import Annotated

from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.middlewares import AckPolicy
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import CustomerMergedEvent, CustomersEvent
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.contracts.orders import OrdersEvent
from hanout_shared.platform.kafka import Context, KafkaMessage, publish_event
from orders.lifecycle import repoint
from orders.model import Actor, Cause
from orders.store import OrderStore, Store

logger = logging.getLogger("hanout.orders")

router = KafkaRouter()
order_events = router.publisher(
    topics.ORDERS_EVENTS,
    title="orders.events.v1",
    description="orders.order.created/updated/stage_changed/cancelled, keyed by order id",
    schema=OrdersEvent,
)
_customer_events: TypeAdapter[CloudEvent] = TypeAdapter(CustomersEvent)
_REPOINT_ATTEMPTS = 5
_LOCK_STRIPES = 64


class OutboxRelay:
    """Publishes the events a write left in its order's outbox, and sweeps for leftovers.

    A write stores the order and its events in one document update; only then are the events
    published and removed. A crash or a Kafka outage in between leaves them pending, so they are
    published later by the sweep: at least once, never lost (consumers dedupe on the event id).
    """

    def __init__(
        self, orders: OrderStore, broker: KafkaBroker, *, interval_s: float, timeout_s: float
    ) -> None:
        self._orders, self._broker = orders, broker
        self._interval_s, self._timeout_s = interval_s, timeout_s
        self._task: asyncio.Task[None] | None = None
        self._stripes = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]

    async def publish(self, order_id: str) -> bool:
        """Publish one order's pending events; False (logged) if Kafka did not take them."""
        try:
            await asyncio.wait_for(self._drain_alone(order_id), self._timeout_s)
        except Exception:  # the events stay pending: the sweep retries them
            logger.warning("order events left pending", extra={"order_id": order_id}, exc_info=True)
            return False
        return True

    async def _drain_alone(self, order_id: str) -> None:
        # One drain per order at a time in this process (a request's and the sweep's): two at
        # once would both publish the events neither has removed yet. Striped locks stay few.
        async with self._stripes[hash(order_id) % _LOCK_STRIPES]:
            await self._drain(order_id)

    async def _drain(self, order_id: str) -> None:
        published: list[str] = []
        try:
            for event in await self._orders.pending_events(order_id):
                await publish_event(order_events, event)
                published.append(event.id)
        finally:
            if published:
                await self._orders.mark_published(order_id, published)

    async def sweep(self, batch: int = 500) -> int:
        """Publish every pending event; the number of orders that still have some."""
        stuck = 0
        for order_id in await self._orders.with_pending_events(batch):
            stuck += not await self.publish(order_id)
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


customer_events = router.subscriber(
    topics.CUSTOMERS_EVENTS,
    group_id="orders",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)


def name_consumer_group(group: str) -> None:
    """The group id follows the `consumer_group` setting: a second deployment or a test run on
    the same broker needs a group of its own, or it would take this one's partitions."""
    customer_events.group_id = group


@customer_events
async def on_customer_event(
    message: KafkaMessage,
    store: Annotated[Store, Context("store")],
    relay: Annotated[OutboxRelay, Context("relay")],
    poison: Annotated[Counter, Context("poison_messages")],
) -> None:
    try:
        event = _customer_events.validate_json(message.body)
    except ValidationError as exc:
        # Retrying cannot fix a malformed event: count it, log why, and let the partition move on.
        poison.labels(topic=topics.CUSTOMERS_EVENTS, reason="invalid_event").inc()
        logger.error(
            "skipped an unreadable customer event",
            extra={"reason": str(exc)[:1000], "message_id": message.message_id},
        )
        return
    if isinstance(event, CustomerMergedEvent):
        await on_customer_merged(event, store, relay)


async def on_customer_merged(event: CustomerMergedEvent, store: Store, relay: OutboxRelay) -> None:
    """Re-point the absorbed customers' orders; a redelivery finds nothing left to move."""
    workspace_id, survivor = event.workspaceid, event.data.survivor_id
    absorbed = [cid for cid in event.data.absorbed_ids if cid != survivor]
    await store.merges.record(workspace_id, survivor, absorbed)
    actor = (
        Actor(id=event.actorid, name=event.actorname or event.actorid) if event.actorid else None
    )
    cause = Cause(actor=actor, at=event.time, correlation_id=event.correlationid or event.id)
    for order_id in await store.orders.ids_of_customers(workspace_id, absorbed):
        await _repoint_order(
            store.orders, workspace_id, order_id, absorbed, survivor, cause, event.id
        )
        await relay.publish(order_id)


async def _repoint_order(
    orders: OrderStore,
    workspace_id: str,
    order_id: str,
    absorbed: list[str],
    survivor: str,
    cause: Cause,
    merge_id: str,
) -> None:
    for _ in range(_REPOINT_ATTEMPTS):
        order = await orders.get(workspace_id, order_id)
        if order is None or order.customer_id not in absorbed:
            return
        change = repoint(order, survivor, cause, deterministic_id(merge_id, order_id))
        if await orders.apply(change, order.version):
            return
    raise RuntimeError(f"order {order_id} kept changing while being re-pointed")
