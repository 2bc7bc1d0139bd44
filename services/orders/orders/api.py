"""HTTP routes of the orders service: orders, their stages, history, and the pipeline."""

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from hanout_shared.platform.auth import Admin, Agent, Principal
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from hanout_shared.platform.logs import correlation_id
from hanout_shared.platform.service import dependencies
from orders import lifecycle
from orders.api_models import Cancellation, OrderPage, StageMove, expected_version, now
from orders.deps import OrdersDeps
from orders.model import (
    Actor,
    Cause,
    Change,
    NewOrder,
    Order,
    OrderDetail,
    OrderPatch,
    Pipeline,
    PipelineSpec,
    default_pipeline,
    parse_number,
)

router = APIRouter(tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeat it on a retry: the same order comes back, created once",
    ),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="The order version you saw (its ETag)")
]
VERSIONED: dict[int | str, dict[str, Any]] = {s: {"model": ErrorBody} for s in (404, 409, 422, 428)}


def _conflict(order: Order) -> ApiError:
    message = (
        f"Order {order.label} was changed by someone else: it is now at version {order.version}"
    )
    current = {"current_version": order.version, "current": order.model_dump(mode="json")}
    return ApiError(409, "version_conflict", message, [current])


def _unknown_customer(customer_id: str) -> ApiError:
    message = f"No customer {customer_id!r} in this workspace"
    detail = {"field": "body.customer_id", "message": message}
    return ApiError(422, "unknown_customer", message, [detail])


class Desk:
    """What a route works with: the caller's workspace and cause, and the service's deps."""

    def __init__(self, deps: OrdersDeps, agent: Principal, response: Response) -> None:
        self.deps, self.store = deps, deps.store
        self.workspace_id, self.response = agent.workspace_id, response
        self.cause = Cause(
            actor=Actor(id=agent.agent_id, name=agent.name),
            at=now(),
            correlation_id=correlation_id.get(),
        )

    async def pipeline(self) -> Pipeline:
        found = await self.store.pipelines.get(self.workspace_id)
        return found or default_pipeline(self.workspace_id)

    async def shown(self, order: Order, pipeline: Pipeline | None = None) -> Order:
        """The order with its stage as the pipeline names it today, and its version as ETag."""
        self.response.headers["ETag"] = f'"{order.version}"'
        stage = (pipeline or await self.pipeline()).current(order.stage)
        return order.model_copy(update={"stage": stage})

    async def order(self, order_id: str, expected: int | None = None) -> Order:
        order = await self.store.orders.get(self.workspace_id, order_id)
        if order is None:
            raise not_found("Order")
        if expected is not None and order.version != expected:
            raise _conflict(order)
        return order

    async def change(
        self, order_id: str, expected: int, make: Callable[[Order], Change | None]
    ) -> Order:
        """Apply `make` to the order the caller saw, unless a colleague changed it since."""
        order = await self.order(order_id, expected)
        change = make(order)
        if change is None:
            return await self.shown(order)
        if not await self.store.orders.apply(change, expected):
            raise _conflict(await self.order(order_id))
        await self.deps.publish(order_id)
        return await self.shown(change.order)

    async def customer(self, customer_id: str) -> str:
        """The customer an order may name: one of the caller's workspace, known to this service's
        read model; a merged-away one resolves to the survivor (a stale client may still send
        it). A customer created a moment ago may not have reached the read model yet: it is
        waited for, up to `customer_wait_s`, before the answer is 422 `unknown_customer`."""
        deadline, pause = time.monotonic() + self.deps.customer_wait_s, 0.02
        while True:
            merges = self.store.merges
            resolved = await merges.survivor_of(self.workspace_id, customer_id) or customer_id
            if await self.store.customers.known(self.workspace_id, resolved):
                return resolved
            if time.monotonic() + pause > deadline:
                raise _unknown_customer(customer_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)

    async def replay(self, key: str, request_hash: str) -> Order | None:
        found = await self.store.orders.by_idempotency_key(self.workspace_id, key)
        if found is None:
            return None
        order, original_hash = found
        if original_hash != request_hash:
            message = "This Idempotency-Key was already used for a different order"
            detail = {"field": "header.Idempotency-Key", "message": message, "order_id": order.id}
            raise ApiError(422, "idempotency_key_reused", message, [detail])
        self.response.headers["Idempotent-Replayed"] = "true"
        self.response.headers["Location"] = f"/orders/{order.id}"
        return await self.shown(order)


async def open_desk(
    deps: Annotated[OrdersDeps, Depends(dependencies)], agent: Agent, response: Response
) -> Desk:
    """Async so FastAPI builds the desk inline: a class dependency costs a thread hop."""
    return Desk(deps, agent, response)


Ops = Annotated[Desk, Depends(open_desk)]


@router.post(
    "/orders",
    status_code=201,
    summary="Create an order (from a conversation or not); idempotent with Idempotency-Key",
    response_description="The order; a replayed Idempotency-Key returns the same order",
    responses={422: {"model": ErrorBody}},
)
async def create_order(draft: NewOrder, desk: Ops, key: IdempotencyKey = None) -> Order:
    request_hash = hashlib.sha256(draft.model_dump_json().encode()).hexdigest()
    if key and (done := await desk.replay(key, request_hash)):
        return done
    customer_id = await desk.customer(draft.customer_id)
    number = await desk.store.counters.next_number(desk.workspace_id, desk.deps.first_order_number)
    pipeline = await desk.pipeline()
    change = lifecycle.place(
        draft.model_copy(update={"customer_id": customer_id}),
        order_id=str(uuid.uuid4()),
        workspace_id=desk.workspace_id,
        number=number,
        pipeline=pipeline,
        cause=desk.cause,
    )
    entries = await desk.store.orders.insert(change, key, request_hash)
    if entries is None:
        # A concurrent double submit took the key first: answer with its order, as a replay.
        return await desk.replay(key or "", request_hash) or change.order
    desk.response.headers["Location"] = f"/orders/{change.order.id}"
    await desk.deps.publish_inserted(change.order.id, entries)
    return await desk.shown(change.order, pipeline)


@router.get("/orders", summary="Orders, most recent first: by customer, stage, state or chat")
async def list_orders(
    desk: Ops,
    customer_id: str | None = None,
    stage_id: str | None = None,
    state: Annotated[str | None, Query(description="A standard state, e.g. failed")] = None,
    conversation_key: str | None = None,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    wanted = {"customer_id": customer_id, "stage.id": stage_id, "stage.state": state}
    wanted["conversation_key"] = conversation_key
    filters = {field: value for field, value in wanted.items() if value is not None}
    before = int(cursor) if cursor else None
    rows = await desk.store.orders.newest_first(desk.workspace_id, filters, before, limit + 1)
    pipeline = await desk.pipeline()
    items = [row.model_copy(update={"stage": pipeline.current(row.stage)}) for row in rows]
    next_cursor = str(items[limit - 1].number) if len(items) > limit else None
    return OrderPage(items=items[:limit], next_cursor=next_cursor)


async def _detail(desk: Desk, found: OrderDetail | None) -> OrderDetail:
    if found is None:
        raise not_found("Order")
    return OrderDetail.model_validate(await desk.shown(found), from_attributes=True)


@router.get(
    "/orders/by-number/{number}",
    summary="One order by its number (1042 or #1042)",
    responses={404: {"model": ErrorBody}},
)
async def get_by_number(number: str, desk: Ops) -> OrderDetail:
    parsed = parse_number(number)
    orders = desk.store.orders
    return await _detail(desk, await orders.detail_by_number(desk.workspace_id, parsed or -1))


@router.get(
    "/orders/{order_id}",
    summary="One order with its history",
    responses={404: {"model": ErrorBody}},
)
async def get_order(order_id: str, desk: Ops) -> OrderDetail:
    return await _detail(desk, await desk.store.orders.detail(desk.workspace_id, order_id))


@router.patch(
    "/orders/{order_id}",
    responses=VERSIONED,
    summary="Edit an order (only the fields sent); needs the version you saw",
)
async def edit_order(
    order_id: str, patch: OrderPatch, desk: Ops, if_match: IfMatch = None
) -> Order:
    expected = expected_version(if_match, patch.expected_version)
    if patch.customer_id is not None:
        patch.customer_id = await desk.customer(patch.customer_id)
    return await desk.change(order_id, expected, lambda o: lifecycle.edit(o, patch, desk.cause))


@router.post(
    "/orders/{order_id}/stage",
    responses=VERSIONED,
    summary="Move an order to another stage; needs the version you saw",
)
async def change_stage(
    order_id: str, move: StageMove, desk: Ops, if_match: IfMatch = None
) -> Order:
    expected = expected_version(if_match, move.expected_version)
    pipeline = await desk.pipeline()
    target = pipeline.stage(move.stage_id)
    if target is None:
        message = f"no stage '{move.stage_id}' in the pipeline"
        detail = {"field": "body.stage_id", "message": message}
        raise ApiError(422, "unknown_stage", message, [detail])
    return await desk.change(
        order_id, expected, lambda o: lifecycle.move(o, target, pipeline, desk.cause)
    )


@router.post(
    "/orders/{order_id}/cancel",
    responses=VERSIONED,
    summary="Cancel an order (to the cancelled stage); needs the version you saw",
)
async def cancel_order(
    order_id: str, cancellation: Cancellation, desk: Ops, if_match: IfMatch = None
) -> Order:
    expected = expected_version(if_match, cancellation.expected_version)
    pipeline, reason = await desk.pipeline(), cancellation.reason
    return await desk.change(
        order_id, expected, lambda o: lifecycle.cancel(o, pipeline, desk.cause, reason)
    )


@router.get("/pipeline", summary="The workspace's stages (the default COD set until customised)")
async def get_pipeline(desk: Ops) -> Pipeline:
    return await desk.pipeline()


@router.put(
    "/pipeline",
    responses={s: {"model": ErrorBody} for s in (403, 409, 422)},
    summary="Replace the workspace's stages (admins only); history keeps old names",
)
async def put_pipeline(spec: PipelineSpec, admin: Admin, desk: Ops) -> Pipeline:
    current = await desk.pipeline()
    expected = current.version if spec.expected_version is None else spec.expected_version
    stale = ApiError(
        409,
        "version_conflict",
        "The pipeline was changed by someone else",
        [{"current_version": current.version}],
    )
    if expected != current.version:
        raise stale
    pipeline = lifecycle.build_pipeline(admin.workspace_id, spec, expected + 1)
    removed = lifecycle.removed_stages(current, pipeline)
    if in_use := await desk.store.orders.stages_in_use(admin.workspace_id, removed):
        message = f"Stages still hold orders: {', '.join(in_use)}; move them first"
        raise ApiError(409, "stage_in_use", message, [{"stage_ids": in_use}])
    if not await desk.store.pipelines.save(pipeline, expected):
        raise stale
    return pipeline
