"""Pure order lifecycle: pricing, pipeline checks, and every change with its history and events."""

from decimal import Decimal
from typing import Any

from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.contracts.orders import (
    STANDARD_STATES,
    OrderCancelled,
    OrderCancelledEvent,
    OrderCreated,
    OrderCreatedEvent,
    OrderLine,
    OrderStageChanged,
    OrderStageChangedEvent,
    OrderSummary,
    OrderUpdated,
    OrderUpdatedEvent,
)
from hanout_shared.platform.errors import ApiError
from orders.model import (
    Cause,
    Change,
    HistoryEntry,
    LineIn,
    NewOrder,
    Order,
    OrderPatch,
    Pipeline,
    PipelineSpec,
    PipelineStage,
    label,
    phone_number_id_of,
)

SOURCE = "hanout/orders"
_SUMMARY_FIELDS = set(OrderSummary.model_fields) - {"order_id"}
# An explicit null on these means "leave unchanged"; on the others it clears the field.
_KEPT_ON_NULL = frozenset({"customer_id", "lines", "shipping_fee", "payment_method"})
_EDITABLE = [*_KEPT_ON_NULL, "shipping_city", "shipping_address", "note"]
MAX_TOTAL = Decimal("9999999999.99")


def _pipeline_problems(spec: PipelineSpec) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    ids, positions = [s.id for s in spec.stages], [s.position for s in spec.stages]
    if len(set(ids)) != len(ids):
        problems.append({"field": "body.stages", "message": "stage ids must be unique"})
    if len(set(positions)) != len(positions):
        problems.append({"field": "body.stages", "message": "stage positions must be unique"})
    for index, stage in enumerate(spec.stages):
        if stage.state not in STANDARD_STATES:
            message = f"must be one of {', '.join(STANDARD_STATES)}"
            problems.append({"field": f"body.stages.{index}.state", "message": message})
    for needed in ("new", "cancelled"):
        if needed not in {stage.state for stage in spec.stages}:
            message = f"one stage must map to the '{needed}' state"
            problems.append({"field": "body.stages", "message": message})
    for source, targets in (spec.transitions or {}).items():
        if unknown := sorted({source, *targets} - set(ids)):
            message = f"unknown stage ids: {', '.join(unknown)}"
            problems.append({"field": f"body.transitions.{source}", "message": message})
    return problems


def build_pipeline(workspace_id: str, spec: PipelineSpec, version: int) -> Pipeline:
    """The pipeline an admin asked for, or 422 naming every field that is wrong."""
    if problems := _pipeline_problems(spec):
        fields = ", ".join(dict.fromkeys(problem["field"] for problem in problems))
        raise ApiError(422, "validation_failed", f"Invalid pipeline: {fields}", problems)
    stages = sorted(spec.stages, key=lambda stage: stage.position)
    return Pipeline(
        workspace_id=workspace_id, stages=stages, transitions=spec.transitions, version=version
    )


def removed_stages(before: Pipeline, after: Pipeline) -> list[str]:
    kept = {stage.id for stage in after.stages}
    return [stage.id for stage in before.stages if stage.id not in kept]


def price_lines(lines: list[LineIn]) -> list[OrderLine]:
    return [
        OrderLine(
            name=line.name,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.unit_price * line.quantity,
        )
        for line in lines
    ]


def checked_total(lines: list[OrderLine], fee: Decimal, claimed: Decimal | None) -> Decimal:
    """The total of the lines and the fee; a client total that disagrees is refused."""
    total = sum((line.total for line in lines), fee)
    if total > MAX_TOTAL:  # what a money field holds; also keeps centimes within an int64
        message = f"total {total} is more than {MAX_TOTAL} MAD"
        detail = {"field": "body.lines", "message": message}
        raise ApiError(422, "total_too_large", message, [detail])
    if claimed is not None and claimed != total:
        message = f"total {claimed} does not match the lines and shipping fee ({total})"
        detail = {"field": "body.total", "message": message, "expected": str(total)}
        raise ApiError(422, "total_mismatch", message, [detail])
    return total


def summary(order: Order) -> OrderSummary:
    return OrderSummary(order_id=order.id, **order.model_dump(include=_SUMMARY_FIELDS))


def _event(kind: type[CloudEvent], order: Order, cause: Cause, data: Any, **extra: Any) -> Any:
    actor = cause.actor
    return kind.create(
        source=SOURCE,
        workspaceid=order.workspace_id,
        subject=order.id,
        data=data,
        time=cause.at,
        actorid=actor.id if actor else None,
        actorname=actor.name if actor else None,
        correlationid=cause.correlation_id,
        **extra,
    )


def _check_conversation(workspace_id: str, draft: NewOrder) -> None:
    if draft.conversation_key and not draft.conversation_key.startswith(f"{workspace_id}:"):
        message = "conversation_key belongs to another workspace"
        detail = {"field": "body.conversation_key", "message": message}
        raise ApiError(422, "validation_failed", message, [detail])


def place(
    draft: NewOrder,
    *,
    order_id: str,
    workspace_id: str,
    number: int,
    pipeline: Pipeline,
    cause: Cause,
) -> Change:
    _check_conversation(workspace_id, draft)
    lines = price_lines(draft.lines)
    total = checked_total(lines, draft.shipping_fee, draft.total)
    stage = pipeline.first_in("new").snapshot()
    order = Order(
        id=order_id,
        workspace_id=workspace_id,
        number=number,
        label=label(number),
        lines=lines,
        total=total,
        stage=stage,
        stage_entered_at=cause.at,
        placed_at=cause.at,
        created_by=cause.actor,
        updated_at=cause.at,
        updated_by=cause.actor,
        version=1,
        phone_number_id=draft.phone_number_id or phone_number_id_of(draft.conversation_key),
        **draft.model_dump(include={"customer_id", "conversation_key", "shipping_fee"}),
        **draft.model_dump(include={"shipping_city", "shipping_address", "payment_method", "note"}),
    )
    entry = HistoryEntry(kind="created", at=cause.at, by=cause.actor, version=1, to_stage=stage)
    data = OrderCreated(
        order=summary(order),
        lines=lines,
        shipping_fee=order.shipping_fee,
        **draft.model_dump(include={"shipping_city", "shipping_address", "payment_method", "note"}),
    )
    return Change(order, entry, [_event(OrderCreatedEvent, order, cause, data)])


def _refuse_if_cancelled(order: Order) -> None:
    if order.stage.state == "cancelled":
        raise ApiError(409, "order_cancelled", f"Order {order.label} is cancelled")


def _updates(order: Order, patch: OrderPatch) -> dict[str, Any]:
    updates = {
        field: getattr(patch, field)
        for field in _EDITABLE
        if field in patch.model_fields_set
        and not (getattr(patch, field) is None and field in _KEPT_ON_NULL)
    }
    if patch.lines is not None:
        updates["lines"] = price_lines(patch.lines)
    lines = updates.get("lines", order.lines)
    fee = updates.get("shipping_fee", order.shipping_fee)
    updates["total"] = checked_total(lines, fee, patch.total)
    return {field: value for field, value in updates.items() if getattr(order, field) != value}


def _touched(order: Order, cause: Cause, **fields: Any) -> Order:
    version = order.version + 1
    return order.model_copy(
        update={**fields, "version": version, "updated_at": cause.at, "updated_by": cause.actor}
    )


def _updated_event(
    after: Order, cause: Cause, changed: list[str], before: Order, event_id: str | None = None
) -> OrderUpdatedEvent:
    previous = before.customer_id if "customer_id" in changed else None
    data = OrderUpdated(
        order=summary(after),
        changed_fields=changed,
        previous_customer_id=previous,
        lines=after.lines,
        **after.model_dump(include={"shipping_fee", "shipping_city", "shipping_address"}),
        **after.model_dump(include={"payment_method", "note"}),
    )
    event: OrderUpdatedEvent = _event(OrderUpdatedEvent, after, cause, data, id=event_id)
    return event


def edit(order: Order, patch: OrderPatch, cause: Cause) -> Change | None:
    """The edited order, or None when the patch changes nothing."""
    _refuse_if_cancelled(order)
    updates = _updates(order, patch)
    if not updates:
        return None
    after = _touched(order, cause, **updates)
    changed = sorted(updates)
    entry = HistoryEntry(
        kind="edited", at=cause.at, by=cause.actor, version=after.version, changed_fields=changed
    )
    return Change(after, entry, [_updated_event(after, cause, changed, order)])


def move(
    order: Order, target: PipelineStage, pipeline: Pipeline, cause: Cause, reason: str | None = None
) -> Change:
    """A stage change; moving into a cancelled-state stage is a cancellation too."""
    if target.id == order.stage.id:
        raise ApiError(409, "already_in_stage", f"Order {order.label} is already in {target.name}")
    if not pipeline.allows(order.stage.id, target.id):
        message = f"Moving from {order.stage.name} to {target.name} is not allowed"
        raise ApiError(409, "transition_not_allowed", message)
    to_stage = target.snapshot()
    cancelling = to_stage.state == "cancelled" and order.stage.state != "cancelled"
    seconds = (cause.at - order.stage_entered_at).total_seconds()
    after = _touched(order, cause, stage=to_stage, stage_entered_at=cause.at, cancel_reason=reason)
    entry = HistoryEntry(
        kind="cancelled" if cancelling else "stage_changed",
        at=cause.at,
        by=cause.actor,
        version=after.version,
        from_stage=order.stage,
        to_stage=to_stage,
        seconds_in_previous_stage=seconds,
        reason=reason,
    )
    moved = OrderStageChanged(
        order=summary(after),
        from_stage=order.stage,
        to_stage=to_stage,
        seconds_in_previous_stage=seconds,
    )
    events: list[CloudEvent] = [_event(OrderStageChangedEvent, after, cause, moved)]
    if cancelling:
        cancelled = OrderCancelled(order=summary(after), reason=reason)
        events.append(_event(OrderCancelledEvent, after, cause, cancelled))
    return Change(after, entry, events)


def cancel(order: Order, pipeline: Pipeline, cause: Cause, reason: str | None) -> Change:
    _refuse_if_cancelled(order)
    return move(order, pipeline.first_in("cancelled"), pipeline, cause, reason)


def repoint(order: Order, survivor_id: str, cause: Cause, event_id: str) -> Change:
    """The order of an absorbed customer, moved to the customer that survived the merge."""
    after = _touched(order, cause, customer_id=survivor_id)
    changed = ["customer_id"]
    entry = HistoryEntry(
        kind="customer_repointed",
        at=cause.at,
        by=cause.actor,
        version=after.version,
        changed_fields=changed,
        reason=f"customer {order.customer_id} merged into {survivor_id}",
    )
    return Change(after, entry, [_updated_event(after, cause, changed, order, event_id)])
