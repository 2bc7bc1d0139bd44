"""Kafka side of orders: the order-events publisher and the customer-merge consumer."""

from faststream.kafka import KafkaRouter

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import (
    CustomerCreatedEvent,
    CustomerMerged,
    CustomerMergedEvent,
    CustomersEvent,
    CustomerUpdatedEvent,
)
from hanout_shared.contracts.orders import OrdersEvent
from hanout_shared.platform.consuming import Consumers
from orders.deps import OrdersDeps
from orders.lifecycle import repoint
from orders.model import Actor, Cause
from orders.store import OrderStore

router = KafkaRouter()
order_events = router.publisher(
    topics.ORDERS_EVENTS,
    title="orders.events.v1",
    description="orders.order.created/updated/stage_changed/cancelled, keyed by order id",
    schema=OrdersEvent,
)
_REPOINT_ATTEMPTS = 5


CustomerKnownEvent = CustomerCreatedEvent | CustomerUpdatedEvent | CustomerMergedEvent
KNOWN_KINDS = [CustomerCreatedEvent, CustomerUpdatedEvent, CustomerMergedEvent]


def subscribe(consumers: Consumers[OrdersDeps]) -> None:
    """Merges re-point orders; every customer event feeds the read model of who exists, in a
    group of its own (`<group>.customers`) that starts from the topic's first offset, so a
    deployment that did not have it learns every customer created before it."""
    consumers.subscribe(
        topics.CUSTOMERS_EVENTS, CustomersEvent, [CustomerMergedEvent], on_customer_merged
    )
    consumers.subscribe_batch(
        topics.CUSTOMERS_EVENTS,
        CustomersEvent,
        KNOWN_KINDS,
        on_customers_known,
        group_suffix=".customers",
    )


async def on_customers_known(events: list[CustomerKnownEvent], deps: OrdersDeps) -> None:
    for event in events:
        data = event.data
        customer_id = (
            data.survivor_id if isinstance(data, CustomerMerged) else data.customer.customer_id
        )
        await deps.store.customers.remember(event.workspaceid, customer_id)


async def on_customer_merged(event: CustomerMergedEvent, deps: OrdersDeps) -> None:
    """Re-point the absorbed customers' orders; a redelivery finds nothing left to move."""
    workspace_id, survivor = event.workspaceid, event.data.survivor_id
    absorbed = [cid for cid in event.data.absorbed_ids if cid != survivor]
    await deps.store.merges.record(workspace_id, survivor, absorbed)
    actor = (
        Actor(id=event.actorid, name=event.actorname or event.actorid) if event.actorid else None
    )
    cause = Cause(actor=actor, at=event.time, correlation_id=event.correlationid or event.id)
    orders = deps.store.orders
    for order_id in await orders.ids_of_customers(workspace_id, absorbed):
        await _repoint_order(orders, workspace_id, order_id, absorbed, survivor, cause, event.id)
        await deps.publish(order_id)


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
