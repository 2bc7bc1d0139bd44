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
    """The batch's orders kept (one read, one bulk write), then the stats of every customer
    they move recomputed once, together."""
    rows = [(event.workspaceid, row) for event in events if (row := _row(event, deps))]
    await deps.store.refresh_all_stats(await deps.store.orders.apply_all(rows))


def _row(event: OrderFact, deps: CustomersDeps) -> OrderRow | None:
    try:
        return OrderRow.of(event.data.order)
    except ValidationError as exc:
        # A valid event of an order no shop can be paid (a total finer than a centime): the
        # stats cannot hold it, so it is left out, logged and counted.
        deps.skipped.labels(reason="invalid_amount").inc()
        logger.error(
            "skipped an order the stats cannot count",
            extra={"event_id": event.id, "reason": "invalid_amount", "detail": str(exc)[:1000]},
        )
        return None
