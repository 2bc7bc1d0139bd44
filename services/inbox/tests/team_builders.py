"""Builders for team-work tests: order events as the orders service publishes them."""

import uuid
from datetime import timedelta
from decimal import Decimal

from hanout_shared.contracts.orders import (
    OrderCancelled,
    OrderCancelledEvent,
    OrderCreated,
    OrderCreatedEvent,
    OrderLine,
    OrderStageChanged,
    OrderStageChangedEvent,
    OrderSummary,
    Stage,
)

from .builders import now

NEW = Stage(id="stage-new", name="Nouvelle", color="#2563eb", state="new")
CONFIRMED = Stage(id="stage-confirmed", name="Confirmée", color="#16a34a", state="confirmed")
AMINA = {"actorid": "agent-amina", "actorname": "Amina"}


def an_order(workspace_id: str, conversation_key: str | None, stage: Stage = NEW) -> OrderSummary:
    return OrderSummary(
        order_id=f"order-{uuid.uuid4().hex[:8]}",
        number=1042,
        label="#1042",
        customer_id="customer-1",
        conversation_key=conversation_key,
        total=Decimal("398.00"),
        stage=stage,
        placed_at=now(),
        version=1,
    )


def order_created(workspace_id: str, order: OrderSummary, **actor: str) -> OrderCreatedEvent:
    line = OrderLine(name="Caftan", quantity=2, unit_price=Decimal("199"), total=Decimal("398"))
    return OrderCreatedEvent.create(
        source="hanout/orders",
        workspaceid=workspace_id,
        subject=order.order_id,
        data=OrderCreated(order=order, lines=[line]),
        time=order.placed_at,
        **(actor or AMINA),
    )


def stage_changed(
    workspace_id: str, order: OrderSummary, to: Stage = CONFIRMED, **actor: str
) -> OrderStageChangedEvent:
    moved = order.model_copy(update={"stage": to, "version": order.version + 1})
    data = OrderStageChanged(order=moved, from_stage=order.stage, to_stage=to)
    return OrderStageChangedEvent.create(
        source="hanout/orders",
        workspaceid=workspace_id,
        subject=order.order_id,
        data=data,
        time=order.placed_at + timedelta(minutes=1),
        **(actor or AMINA),
    )


def order_cancelled(workspace_id: str, order: OrderSummary, reason: str) -> OrderCancelledEvent:
    return OrderCancelledEvent.create(
        source="hanout/orders",
        workspaceid=workspace_id,
        subject=order.order_id,
        data=OrderCancelled(order=order, reason=reason),
        **AMINA,
    )
