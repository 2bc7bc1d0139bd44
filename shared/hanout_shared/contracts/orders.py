"""Order events produced by the orders service on orders.events.v1 (key: order id)."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union

# The standard states every workspace's stages map to; the set may grow, so consumers treat an
# unknown state like "new" rather than failing.
STANDARD_STATES = ("new", "confirmed", "shipped", "delivered", "failed", "returned", "cancelled")
NOT_SPENT_STATES = frozenset({"cancelled", "returned"})


class Stage(Contract):
    id: str
    name: str
    color: str = Field(description="CSS colour of the badge, e.g. #16a34a")
    state: str = Field(description="The standard state the stage maps to")


class OrderLine(Contract):
    name: str
    sku: str | None = None
    quantity: int
    unit_price: Decimal
    total: Decimal


class OrderSummary(Contract):
    """What every order event carries, so subscribers never need to call back."""

    order_id: str
    number: int
    label: str = Field(description="Human order number, e.g. #1042")
    customer_id: str
    conversation_key: str | None = None
    phone_number_id: str | None = None
    total: Decimal
    currency: str = "MAD"
    stage: Stage
    placed_at: datetime
    version: int = Field(description="Grows with every change; consumers keep the highest seen")


class OrderCreated(Contract):
    order: OrderSummary
    lines: list[OrderLine]
    shipping_city: str | None = None
    shipping_address: str | None = None
    payment_method: str = "cash_on_delivery"
    note: str | None = None
    shipping_fee: Decimal | None = Field(default=None, description="Included in the total")


class OrderUpdated(Contract):
    order: OrderSummary
    changed_fields: list[str]
    previous_customer_id: str | None = Field(
        default=None, description="Set when customer_id changed (an edit or a customer merge)"
    )
    lines: list[OrderLine] | None = Field(default=None, description="The lines after the change")
    shipping_fee: Decimal | None = None
    shipping_city: str | None = None
    shipping_address: str | None = None
    payment_method: str | None = None
    note: str | None = None


class OrderStageChanged(Contract):
    order: OrderSummary
    from_stage: Stage | None
    to_stage: Stage
    seconds_in_previous_stage: float | None = None


class OrderCancelled(Contract):
    order: OrderSummary
    reason: str | None = None


class OrderCreatedEvent(CloudEvent):
    type: Literal["orders.order.created"] = "orders.order.created"
    dataschemaversion: Literal[1] = 1
    data: OrderCreated


class OrderUpdatedEvent(CloudEvent):
    type: Literal["orders.order.updated"] = "orders.order.updated"
    dataschemaversion: Literal[1] = 1
    data: OrderUpdated


class OrderStageChangedEvent(CloudEvent):
    type: Literal["orders.order.stage_changed"] = "orders.order.stage_changed"
    dataschemaversion: Literal[1] = 1
    data: OrderStageChanged


class OrderCancelledEvent(CloudEvent):
    type: Literal["orders.order.cancelled"] = "orders.order.cancelled"
    dataschemaversion: Literal[1] = 1
    data: OrderCancelled


OrdersEvent = event_union(
    [OrderCreatedEvent, OrderUpdatedEvent, OrderStageChangedEvent, OrderCancelledEvent]
)
