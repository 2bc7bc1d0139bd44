"""Kafka side of the card: its stats, recomputed from the orders' events."""

import logging

from pydantic import ValidationError

from customers.cards.model import OrderRow
from customers.deps import CustomersDeps
from customers.events import BATCH_RECORDS
from hanout_shared.contracts import topics
from hanout_shared.contracts.orders import (
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrdersEvent,
    OrderStageChangedEvent,
    OrderUpdatedEvent,
)
from hanout_shared.platform.consuming import Consumers

logger = logging.getLogger("hanout.customers.cards")
GROUP_SUFFIX = ".orders"
OrderFact = OrderCreatedEvent | OrderUpdatedEvent | OrderStageChangedEvent | OrderCancelledEvent


def subscribe(consumers: Consumers[CustomersDeps]) -> None:
    """Every order event carries the order's summary: each one is counted."""
    consumers.subscribe_batch(
        topics.ORDERS_EVENTS,
        OrdersEvent,
        [OrderCreatedEvent, OrderUpdatedEvent, OrderStageChangedEvent, OrderCancelledEvent],
        on_order_event,
        group_suffix=GROUP_SUFFIX,
        max_records=BATCH_RECORDS,
    )


async def on_order_event(events: list[OrderFact], deps: CustomersDeps) -> None:
    moved: dict[tuple[str, str], None] = {}
    for event in events:
        try:
            row = OrderRow.of(event.data.order)
        except ValidationError as exc:
            # A valid event of an order no shop can be paid (a total finer than a centime): the
            # stats cannot hold it, so it is left out, logged and counted.
            deps.skipped.labels(reason="invalid_amount").inc()
            logger.error(
                "skipped an order the stats cannot count",
                extra={"event_id": event.id, "reason": "invalid_amount", "detail": str(exc)[:1000]},
            )
            continue
        for customer_id in await deps.store.orders.apply(event.workspaceid, row):
            moved[(event.workspaceid, customer_id)] = None
    for workspace_id, customer_id in moved:  # once per customer, however many of its orders
        await deps.store.refresh_stats(workspace_id, customer_id)
