"""The pure order lifecycle: pricing, the pipeline, every change, its history and its events."""

from datetime import timedelta
from decimal import Decimal

import pytest

from hanout_shared.contracts.orders import (
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderStageChangedEvent,
    OrderUpdatedEvent,
)
from hanout_shared.platform.errors import ApiError
from orders import lifecycle
from orders.api_models import now
from orders.model import (
    Actor,
    Cause,
    NewOrder,
    Order,
    OrderPatch,
    PipelineSpec,
    PipelineStage,
    default_pipeline,
    parse_number,
)

from .orders_builders import an_order

SALMA = Cause(actor=Actor(id="agent-1", name="Salma"), at=now(), correlation_id="corr-1")


def placed(**fields: object) -> Order:
    draft = NewOrder.model_validate(an_order("cus-1", **fields))
    pipeline = default_pipeline("ws-1")
    change = lifecycle.place(
        draft, order_id="o-1", workspace_id="ws-1", number=1042, pipeline=pipeline, cause=SALMA
    )
    return change.order


def later(seconds: float) -> Cause:
    actor = Actor(id="agent-2", name="Omar")
    return Cause(actor=actor, at=SALMA.at + timedelta(seconds=seconds))


def test_a_new_order_is_priced_exactly_from_its_lines_and_fee() -> None:
    order = placed()
    assert [line.total for line in order.lines] == [Decimal("499.80"), Decimal("120.00")]
    assert order.total == Decimal("654.80")
    assert order.label == "#1042"
    assert (order.stage.id, order.stage.state, order.version) == ("new", "new", 1)


def test_a_client_total_that_disagrees_is_refused_naming_the_field() -> None:
    with pytest.raises(ApiError) as refused:
        placed(total="650.00")
    assert (refused.value.status, refused.value.code) == (422, "total_mismatch")
    assert refused.value.details and refused.value.details[0]["field"] == "body.total"
    assert placed(total="654.80").total == Decimal("654.80")


def test_a_total_beyond_what_a_money_field_holds_is_refused() -> None:
    line = {"name": "Tapis", "quantity": 100_000, "unit_price": "9999999999.99"}
    with pytest.raises(ApiError) as refused:
        placed(lines=[line])
    assert (refused.value.status, refused.value.code) == (422, "total_too_large")
    top = {"name": "Tapis", "quantity": 1, "unit_price": "9999999964.99"}
    assert placed(lines=[top]).total == lifecycle.MAX_TOTAL


def test_prices_with_more_than_two_decimals_are_invalid() -> None:
    with pytest.raises(ValueError, match="decimal"):
        NewOrder.model_validate(
            an_order(lines=[{"name": "x", "quantity": 1, "unit_price": "1.005"}])
        )


def test_the_creation_event_carries_what_subscribers_need_and_who_did_it() -> None:
    draft = NewOrder.model_validate(an_order("cus-1", conversation_key="ws-1:1109:2126"))
    change = lifecycle.place(
        draft,
        order_id="o-1",
        workspace_id="ws-1",
        number=1001,
        pipeline=default_pipeline("ws-1"),
        cause=SALMA,
    )
    [event] = change.events
    assert isinstance(event, OrderCreatedEvent)
    assert (event.actorid, event.actorname, event.correlationid) == ("agent-1", "Salma", "corr-1")
    assert event.subject == "o-1" and event.workspaceid == "ws-1"
    assert event.data.order.total == Decimal("654.80") and event.data.order.currency == "MAD"
    assert event.data.order.phone_number_id == "1109"
    assert event.data.order.stage.state == "new"
    assert change.entry.kind == "created" and change.entry.by == SALMA.actor


def test_the_business_number_sent_is_kept_over_the_one_in_the_key() -> None:
    assert placed(conversation_key="ws-1:1109:2126", phone_number_id="2207").phone_number_id == (
        "2207"
    )
    assert placed(conversation_key="ws-1:1109:2126").phone_number_id == "1109"
    assert placed().phone_number_id is None


def test_a_conversation_of_another_workspace_is_refused() -> None:
    draft = NewOrder.model_validate(an_order(conversation_key="ws-2:1109:2126"))
    with pytest.raises(ApiError) as refused:
        lifecycle.place(
            draft,
            order_id="o",
            workspace_id="ws-1",
            number=1,
            pipeline=default_pipeline("ws-1"),
            cause=SALMA,
        )
    assert refused.value.details and refused.value.details[0]["field"] == "body.conversation_key"


def test_a_stage_change_records_from_to_who_and_time_in_the_previous_stage() -> None:
    order, pipeline = placed(), default_pipeline("ws-1")
    confirmed = pipeline.stage("confirmed")
    assert confirmed is not None
    change = lifecycle.move(order, confirmed, pipeline, later(90))
    assert change.order.version == 2 and change.order.stage.id == "confirmed"
    entry = change.entry
    assert entry.from_stage and entry.from_stage.id == "new"
    assert entry.to_stage and entry.to_stage.name == "Confirmée"
    assert (entry.seconds_in_previous_stage, entry.by) == (90.0, later(0).actor)
    [event] = change.events
    assert isinstance(event, OrderStageChangedEvent)
    assert event.data.to_stage.state == "confirmed" and event.data.order.version == 2


def test_moving_to_the_same_stage_or_a_forbidden_one_is_refused() -> None:
    order, pipeline = placed(), default_pipeline("ws-1")
    new = pipeline.stage("new")
    assert new is not None
    with pytest.raises(ApiError, match="already"):
        lifecycle.move(order, new, pipeline, later(1))
    strict = pipeline.model_copy(update={"transitions": {"new": ["confirmed", "cancelled"]}})
    delivered = pipeline.stage("delivered")
    assert delivered is not None
    with pytest.raises(ApiError) as refused:
        lifecycle.move(order, delivered, strict, later(1))
    assert refused.value.code == "transition_not_allowed"


def test_cancelling_moves_to_the_cancelled_stage_and_emits_both_events() -> None:
    order, pipeline = placed(), default_pipeline("ws-1")
    change = lifecycle.cancel(order, pipeline, later(5), "client injoignable")
    assert change.order.stage.state == "cancelled" and change.order.cancel_reason
    assert change.entry.kind == "cancelled"
    assert [type(e) for e in change.events] == [OrderStageChangedEvent, OrderCancelledEvent]
    with pytest.raises(ApiError) as refused:
        lifecycle.cancel(change.order, pipeline, later(6), None)
    assert refused.value.code == "order_cancelled"


def test_an_edit_changes_only_what_was_sent_and_reprices() -> None:
    order = placed(note="Livrer après 18h")
    patch = OrderPatch.model_validate(
        {"lines": [{"name": "Caftan", "quantity": 1, "unit_price": "300"}], "note": None}
    )
    change = lifecycle.edit(order, patch, later(10))
    assert change is not None
    assert change.order.total == Decimal("335.00") and change.order.note is None
    assert change.order.shipping_city == "Casablanca"
    assert change.entry.changed_fields == ["lines", "note", "total"]
    [event] = change.events
    assert isinstance(event, OrderUpdatedEvent) and event.data.lines == change.order.lines


def test_an_edit_that_changes_nothing_is_no_change() -> None:
    order = placed()
    assert lifecycle.edit(order, OrderPatch(shipping_city="Casablanca"), later(1)) is None


def test_repointing_bumps_the_version_and_names_the_previous_customer() -> None:
    change = lifecycle.repoint(placed(), "cus-9", later(3), "evt-1")
    assert (change.order.customer_id, change.order.version) == ("cus-9", 2)
    [event] = change.events
    assert isinstance(event, OrderUpdatedEvent) and event.id == "evt-1"
    assert event.data.changed_fields == ["customer_id"]
    assert event.data.previous_customer_id == "cus-1"


def test_the_default_pipeline_is_the_cod_set_in_order() -> None:
    pipeline = default_pipeline("ws-1")
    states = [stage.state for stage in pipeline.stages]
    assert states == ["new", "confirmed", "shipped", "delivered", "failed", "returned", "cancelled"]
    assert pipeline.stages[4].name == "Échec de livraison"
    assert all(stage.color.startswith("#") for stage in pipeline.stages)


def a_stage(id_: str, state: str, position: int, color: str = "#123456") -> PipelineStage:
    return PipelineStage(id=id_, name=id_.title(), color=color, position=position, state=state)


def test_a_custom_pipeline_is_validated_field_by_field() -> None:
    spec = PipelineSpec(
        stages=[a_stage("a", "new", 1), a_stage("a", "bogus", 2)],
        transitions={"a": ["zzz"]},
    )
    with pytest.raises(ApiError) as refused:
        lifecycle.build_pipeline("ws-1", spec, 1)
    fields = {detail["field"] for detail in refused.value.details or []}
    assert {"body.stages", "body.stages.1.state", "body.transitions.a"} <= fields


def test_a_renamed_stage_shows_its_new_name_but_history_keeps_the_old() -> None:
    order = placed()
    renamed = [a_stage("new", "new", 0, "#000000"), a_stage("cancelled", "cancelled", 1)]
    pipeline = lifecycle.build_pipeline("ws-1", PipelineSpec(stages=renamed), 1)
    assert pipeline.current(order.stage).name == "New" and order.stage.name == "Nouvelle"
    assert lifecycle.removed_stages(default_pipeline("ws-1"), pipeline)[0] == "confirmed"


def test_order_numbers_parse_with_or_without_the_hash() -> None:
    assert parse_number("#1042") == 1042 and parse_number("1042") == 1042
    assert parse_number("12a") is None
