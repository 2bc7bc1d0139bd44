"""The team around a conversation: its members as the inbox knows them, and the activity trail
(assignments, orders created from it and moved) built from events (pure)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from hanout_shared.contracts import CloudEvent, deterministic_id
from hanout_shared.contracts.inbox import ActivityOrder, ActivityState, ConversationAssignedEvent
from hanout_shared.contracts.orders import (
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderStageChangedEvent,
    OrderSummary,
    Stage,
)
from inbox.conversations.model import conversation_id
from inbox.values import Frozen, Person, to_ms


class TeamMember(Person):
    last_seen_at: datetime = Field(description="Last time the agent opened the live stream")


class Activity(Frozen):
    """Who did what to the conversation: assignments, and orders created from it and moved."""

    kind: Literal["activity"] = "activity"
    id: str
    conversation_id: str
    conversation_key: str
    at: datetime
    action: str = Field(description="assigned, unassigned, order_created, order_stage_changed, …")
    by: Person | None = Field(description="The agent who did it (None: the system)")
    summary: str = Field(description="What happened, in one line, without the agent's name")
    assignee: Person | None = None
    order: ActivityOrder | None = None
    stage: Stage | None = Field(default=None, description="The order's stage, with its colour")
    from_stage: Stage | None = None


def activity_state(activity: Activity) -> ActivityState:
    by, assignee = activity.by, activity.assignee
    return ActivityState(
        activity_id=activity.id,
        conversation_id=activity.conversation_id,
        conversation_key=activity.conversation_key,
        action=activity.action,
        at=activity.at,
        actor_id=by.id if by else None,
        actor_name=by.name if by else None,
        summary=activity.summary,
        assignee_id=assignee.id if assignee else None,
        assignee_name=assignee.name if assignee else None,
        order=activity.order,
        stage=activity.stage,
        from_stage=activity.from_stage,
    )


def _actor(event: CloudEvent) -> Person | None:
    if not event.actorid:
        return None
    return Person(id=event.actorid, name=event.actorname or event.actorid)


def assignment_activity(event: ConversationAssignedEvent) -> Activity:
    data, by = event.data, _actor(event)
    assignee = None
    if data.assignee_id is not None:
        assignee = Person(id=data.assignee_id, name=data.assignee_name or data.assignee_id)
    if assignee is None:
        was = data.previous_assignee_name or data.previous_assignee_id
        summary = f"unassigned the conversation (was {was})" if was else "unassigned it"
    elif by is not None and by.id == assignee.id:
        summary = "took the conversation"
    else:
        summary = f"assigned the conversation to {assignee.name}"
    return Activity(
        id=deterministic_id(event.id, "activity"),
        conversation_id=data.conversation.conversation_id,
        conversation_key=data.conversation.conversation_key,
        at=to_ms(data.assigned_at),
        action="assigned" if assignee else "unassigned",
        by=by,
        summary=summary,
        assignee=assignee,
    )


def _order(summary: OrderSummary) -> ActivityOrder:
    return ActivityOrder(
        order_id=summary.order_id,
        label=summary.label,
        total=summary.total,
        currency=summary.currency,
    )


def _order_line(event: CloudEvent, order: OrderSummary) -> tuple[str, str, Stage | None] | None:
    label = order.label
    if isinstance(event, OrderCreatedEvent):
        text = f"created order {label} ({order.total:.2f} {order.currency}) · {order.stage.name}"
        return "order_created", text, None
    if isinstance(event, OrderStageChangedEvent):
        before, after = event.data.from_stage, event.data.to_stage
        moved = f"from {before.name} to {after.name}" if before else f"to {after.name}"
        return "order_stage_changed", f"moved order {label} {moved}", before
    if isinstance(event, OrderCancelledEvent):
        reason = event.data.reason
        return (
            "order_cancelled",
            f"cancelled order {label}" + (f": {reason}" if reason else ""),
            None,
        )
    return None


def order_activity(event: CloudEvent) -> Activity | None:
    """An order event about a conversation's order, as a line of that conversation's trail."""
    if not isinstance(event, OrderCreatedEvent | OrderStageChangedEvent | OrderCancelledEvent):
        return None
    order = event.data.order
    line = _order_line(event, order)
    if order.conversation_key is None or line is None:
        return None  # an order not created from a conversation has no trail to join
    action, summary, from_stage = line
    stage = event.data.to_stage if isinstance(event, OrderStageChangedEvent) else order.stage
    return Activity(
        id=deterministic_id(event.id, "activity"),
        conversation_id=conversation_id(order.conversation_key),
        conversation_key=order.conversation_key,
        at=to_ms(event.time),
        action=action,
        by=_actor(event),
        summary=summary,
        order=_order(order),
        stage=stage,
        from_stage=from_stage,
    )
