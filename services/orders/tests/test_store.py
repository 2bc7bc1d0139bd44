"""The real store and the FakeStore behave the same on what the service relies on."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from devtools.scratch import scratch_database
from hanout_shared.contracts import topics
from orders import lifecycle
from orders.api_models import now
from orders.model import Actor, Cause, NewOrder, Order, OrderPatch, default_pipeline
from orders.store import Store, centimes, mad

from .orders_builders import an_order, random_ref
from .orders_fakes import FakeStore

pytestmark = pytest.mark.integration
SALMA = Cause(actor=Actor(id="agent-1", name="Salma"), at=now())


@pytest.fixture(params=["fake", "real"])
async def store(request: pytest.FixtureRequest, mongodb_url: str) -> AsyncIterator[Store]:
    if request.param == "fake":
        yield FakeStore()  # type: ignore[misc]
        return
    async with scratch_database(mongodb_url, "orders_test") as db:
        real = Store(db)
        await real.ensure_indexes()
        yield real


async def placed(
    store: Store, workspace: str, customer: str = "cus-1", key: str | None = None
) -> Order:
    number = await store.counters.next_number(workspace, 1001)
    draft = NewOrder.model_validate(an_order(customer))
    change = lifecycle.place(
        draft,
        order_id=random_ref("ord"),
        workspace_id=workspace,
        number=number,
        pipeline=default_pipeline(workspace),
        cause=SALMA,
    )
    assert await store.orders.insert(change, key, "hash-1")
    return change.order


async def test_orders_written_together_are_each_stored_or_refused_alone(store: Store) -> None:
    workspace, keys = random_ref("ws"), ["k-1", None, "k-1", "k-2", None, "k-2"]
    changes = [
        lifecycle.place(
            NewOrder.model_validate(an_order()),
            order_id=random_ref("ord"),
            workspace_id=workspace,
            number=1001 + index,
            pipeline=default_pipeline(workspace),
            cause=SALMA,
        )
        for index in range(len(keys))
    ]
    inserts = [
        store.orders.insert(change, key, "h") for change, key in zip(changes, keys, strict=True)
    ]
    refused = [entries is None for entries in await asyncio.gather(*inserts)]
    assert (refused[1], refused[4]) == (False, False)
    assert sorted([refused[0], refused[2]]) == sorted([refused[3], refused[5]]) == [False, True]
    for change, was_refused in zip(changes, refused, strict=True):
        stored = await store.orders.get(workspace, change.order.id)
        assert (stored == change.order) == (not was_refused)
        pending = [entry["id"] for entry in await store.orders.outbox.pending(change.order.id)]
        assert pending == ([] if was_refused else [event.id for event in change.events])


async def test_concurrent_numbers_are_unique_contiguous_and_in_the_order_asked(
    store: Store,
) -> None:
    workspace = random_ref("ws")
    numbers = await asyncio.gather(
        *[store.counters.next_number(workspace, 1001) for _ in range(40)]
    )
    assert numbers == list(range(1001, 1041))
    assert await store.counters.next_number(random_ref("ws"), 1001) == 1001


async def test_two_replicas_never_hand_out_the_same_number(mongodb_url: str) -> None:
    async with scratch_database(mongodb_url, "orders_test") as db:
        one, other, workspace = Store(db), Store(db), random_ref("ws")
        asked = [store.counters.next_number(workspace, 1001) for store in [one, other] * 30]
        numbers = await asyncio.gather(*asked)
        assert sorted(numbers) == list(range(1001, 1061))
        assert numbers[0::2] == sorted(numbers[0::2]) and numbers[1::2] == sorted(numbers[1::2])


async def test_a_taken_idempotency_key_is_refused_and_found(store: Store) -> None:
    workspace = random_ref("ws")
    first = await placed(store, workspace, key="k-1")
    number = await store.counters.next_number(workspace, 1001)
    again = lifecycle.place(
        NewOrder.model_validate(an_order()),
        order_id=random_ref("ord"),
        workspace_id=workspace,
        number=number,
        pipeline=default_pipeline(workspace),
        cause=SALMA,
    )
    assert await store.orders.insert(again, "k-1", "hash-2") is None
    assert await store.orders.by_idempotency_key(workspace, "k-1") == (first, "hash-1")
    assert await store.orders.by_idempotency_key(random_ref("ws"), "k-1") is None
    assert await store.orders.insert(again, None, "hash-2")
    elsewhere = await placed(store, random_ref("ws"), key="k-1")
    assert await store.orders.by_idempotency_key(elsewhere.workspace_id, "k-1") == (
        elsewhere,
        "hash-1",
    )


async def test_a_stale_change_is_not_written(store: Store) -> None:
    workspace = random_ref("ws")
    order = await placed(store, workspace)
    change = lifecycle.edit(order, OrderPatch(note="Appeler avant"), SALMA)
    assert change is not None
    assert await store.orders.apply(change, expected_version=1)
    assert not await store.orders.apply(change, expected_version=1)
    now_ = await store.orders.detail(workspace, order.id)
    assert now_ is not None and now_.version == 2 and len(now_.history) == 2
    assert now_.total == Decimal("654.80") and now_.lines[0].unit_price == Decimal("249.90")
    assert await store.orders.get(random_ref("ws"), order.id) is None


async def test_pages_are_newest_first_and_filtered(store: Store) -> None:
    workspace = random_ref("ws")
    orders = [await placed(store, workspace, customer) for customer in ("a", "b", "a", "a")]
    page = await store.orders.newest_first(workspace, {"customer_id": "a"}, None, 2)
    assert [o.number for o in page] == [1004, 1003]
    rest = await store.orders.newest_first(workspace, {"customer_id": "a"}, 1003, 10)
    assert [o.number for o in rest] == [1001]
    by_stage = await store.orders.newest_first(workspace, {"stage.state": "new"}, None, 10)
    assert len(by_stage) == 4
    assert await store.orders.ids_of_customers(workspace, ["b"]) == [orders[1].id]
    assert await store.orders.stages_in_use(workspace, ["new", "shipped"]) == ["new"]
    found = await store.orders.detail_by_number(workspace, 1002)
    assert found is not None and found.id == orders[1].id


async def test_the_outbox_keeps_events_until_cleared(store: Store) -> None:
    workspace = random_ref("ws")
    order = await placed(store, workspace)
    change = lifecycle.edit(order, OrderPatch(note="Appeler avant"), SALMA)
    assert change is not None and await store.orders.apply(change, expected_version=1)
    outbox = store.orders.outbox
    created, edited = await outbox.pending(order.id)
    assert (
        created["event"]["type"] == "orders.order.created"
        and created["topic"] == topics.ORDERS_EVENTS
    )
    assert edited["id"] == change.events[0].id
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert order.id in await outbox.stale(later, 10_000)
    await outbox.clear(order.id, [created])
    assert await outbox.pending(order.id) == [edited]
    await outbox.clear(order.id, [edited])
    assert await outbox.pending(order.id) == []
    assert order.id not in await outbox.stale(later, 10_000)


async def test_pipelines_save_only_over_the_version_seen(store: Store) -> None:
    workspace = random_ref("ws")
    assert await store.pipelines.get(workspace) is None
    first = default_pipeline(workspace).model_copy(update={"version": 1})
    assert await store.pipelines.save(first, 0)
    assert not await store.pipelines.save(first, 0)
    second = first.model_copy(update={"version": 2, "transitions": {"new": ["cancelled"]}})
    assert await store.pipelines.save(second, 1)
    assert await store.pipelines.get(workspace) == second


async def test_merges_resolve_through_chains(store: Store) -> None:
    workspace = random_ref("ws")
    await store.merges.record(workspace, "b", ["a"])
    await store.merges.record(workspace, "c", ["b"])
    assert await store.merges.survivor_of(workspace, "a") == "c"
    assert await store.merges.survivor_of(random_ref("ws"), "a") is None
    together = await asyncio.gather(
        *[store.merges.survivor_of(workspace, cid) for cid in ["a", "x", "b", "a", "c"]]
    )
    assert together == ["c", None, "c", "c", None]


async def test_a_read_started_after_a_save_sees_it(store: Store) -> None:
    workspace = random_ref("ws")
    saved = default_pipeline(workspace).model_copy(update={"version": 1})
    reads = [asyncio.ensure_future(store.pipelines.get(workspace)) for _ in range(5)]
    await asyncio.sleep(0)  # reads under way while the save is made
    assert await store.pipelines.save(saved, 0)
    after = await asyncio.gather(*[store.pipelines.get(workspace) for _ in range(5)])
    assert after == [saved] * 5
    assert all(read in (None, saved) for read in await asyncio.gather(*reads))


async def test_a_customer_is_known_in_its_own_workspace_only(store: Store) -> None:
    workspace, customer = random_ref("ws"), random_ref("cus")
    assert not await store.customers.known(workspace, customer)
    await asyncio.gather(*[store.customers.remember(workspace, customer) for _ in range(5)])
    assert await store.customers.known(workspace, customer)
    assert await store.customers.known(workspace, customer)  # the second time, remembered
    assert not await store.customers.known(random_ref("ws"), customer)
    assert not await store.customers.known(workspace, random_ref("cus"))


async def test_money_is_stored_as_exact_integer_centimes(mongodb_url: str) -> None:
    async with scratch_database(mongodb_url, "orders_test") as db:
        store = Store(db)
        order = await placed(store, random_ref("ws"))
        raw = await db["orders"].find_one({"_id": order.id})
        assert raw is not None and "total" not in raw and "shipping_fee" not in raw
        assert (raw["total_centimes"], raw["shipping_fee_centimes"]) == (65480, 3500)
        line = raw["lines"][0]  # type: ignore[index]
        assert (line["unit_price_centimes"], line["total_centimes"]) == (24990, 49980)
        assert all(type(raw[f]) is int for f in ("total_centimes", "shipping_fee_centimes"))
        assert await store.orders.get(order.workspace_id, order.id) == order


def test_an_amount_finer_than_a_centime_is_refused_never_rounded() -> None:
    assert centimes(Decimal("654.8")) == 65480 and mad(65480) == Decimal("654.80")
    with pytest.raises(ValueError, match="centimes"):
        centimes(Decimal("0.005"))
