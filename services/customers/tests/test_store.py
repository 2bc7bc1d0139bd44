"""The real store and the fake behave the same on what the service relies on."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from customers import events
from customers.cards.model import CardFields, Customer, OrderRow, WorkspaceSettings, new_customer
from customers.merging.model import MergeRecord, merge
from hanout_shared.platform.auth import Principal

from .builders import random_ref, real_store
from .fakes import FakeStore

pytestmark = pytest.mark.integration
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
AGENT = Principal(agent_id="a", name="Salma", workspace_id="ws", roles=frozenset({"agent"}))


@pytest.fixture(params=["real", "fake"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeStore()
        return
    async with real_store(request.getfixturevalue("mongodb_url"), "customers_store") as real:
        yield real


def card(ws: str, **fields: Any) -> Customer:
    draft = CardFields.model_validate(fields)
    return new_customer(draft, WorkspaceSettings(), workspace_id=ws, actor="a", now=NOW)


def row(order_id: str, customer_id: str, total: str, version: int, state: str = "new") -> OrderRow:
    return OrderRow(
        order_id=order_id,
        customer_id=customer_id,
        total=Decimal(total),
        currency="MAD",
        state=state,
        placed_at=NOW,
        version=version,
    )


async def test_keys_find_cards_only_in_their_workspace(store: Any) -> None:
    ws = random_ref("ws")
    karim = card(ws, name="Karim", phones=["0612345678"])
    await store.add(ws, [karim, card(ws, name="Nadia", phones=["0698765432"])])
    await store.add("other", [card("other", name="Karim", phones=["0612345678"])])
    found = await store.customers.find_by_keys(ws, ["tel:+212612345678", "tel:+33612345678"])
    assert [c.customer_id for c in found] == [karim.customer_id]
    assert await store.customers.get("other", karim.customer_id) is None
    batch = {ws: ["tel:+212612345678"], "other": ["tel:+212698765432"], "none": []}
    assert [c.customer_id for c in await store.customers.holding(batch)] == [karim.customer_id]


async def test_fragment_and_name_prefixes_are_searched(store: Any) -> None:
    ws = random_ref("ws")
    await store.add(ws, [card(ws, name="Hélène Alaoui", phones=["0612345678"])])
    for found in [
        await store.customers.search_digits(ws, "345678", 10, 0),
        await store.customers.search_digits(ws, "2126123", 10, 0),
        await store.customers.search_names(ws, ["hel"], 10, 0),
        await store.customers.search_names(ws, ["ala", "helene"], 10, 0),
    ]:
        assert [c.name for c in found] == ["Hélène Alaoui"]
    assert await store.customers.search_digits(ws, "33612", 10, 0) == []
    assert await store.customers.search_digits(ws, "5678061", 10, 0) == []
    assert await store.customers.search_names(ws, ["hel", "karim"], 10, 0) == []


async def test_pages_are_newest_first_with_archived_apart(store: Any) -> None:
    ws = random_ref("ws")
    cards = [card(ws, name=f"C{i}") for i in range(4)]
    cards = sorted(cards, key=lambda c: c.customer_id)
    await store.add(ws, cards)
    archived = cards[0].touched("a", NOW, archived=True)
    assert await store.save(cards[0], archived, [])
    assert not await store.save(cards[0], archived, [])  # compare-and-set on the version
    page = await store.customers.page(ws, "active", cards[3].customer_id, 10)
    assert [c.customer_id for c in page] == [cards[2].customer_id, cards[1].customer_id]
    [gone] = await store.customers.page(ws, "archived", None, 10)
    assert gone.archived and gone.version == 2


async def test_the_key_index_tracks_shared_keys_idempotently(store: Any) -> None:
    ws = random_ref("ws")
    a, b = card(ws, phones=["0612345678"]), card(ws, phones=["+212612345678", "0711111111"])
    await store.add(ws, [a, b])
    await store.keys.sync(ws, [(a.customer_id, [], a.keys())])
    [(key, owners)] = await store.keys.shared(ws, 10)
    assert (key, sorted(owners)) == ("tel:+212612345678", sorted([a.customer_id, b.customer_id]))
    await store.keys.sync(ws, [(a.customer_id, a.keys(), [])])
    assert await store.keys.shared(ws, 10) == []


async def test_a_bulk_load_leaves_what_adding_one_by_one_leaves(store: Any) -> None:
    ws = random_ref("ws")
    a, b = card(ws, name="Amal", phones=["0612345678"]), card(ws, phones=["+212612345678"])
    await store.load(ws, [a, b, card(ws, name="Other", phones=["0700000000"])])
    [(key, owners)] = await store.keys.shared(ws, 10)
    assert (key, sorted(owners)) == ("tel:+212612345678", sorted([a.customer_id, b.customer_id]))
    c = card(ws, phones=["06 12 34 56 78"])
    await store.add(ws, [c])
    [(_, owners)] = await store.keys.shared(ws, 10)
    assert len(owners) == 3
    await store.keys.sync(ws, [(a.customer_id, a.keys(), [])])
    [(_, owners)] = await store.keys.shared(ws, 10)
    assert sorted(owners) == sorted([b.customer_id, c.customer_id])
    [found] = await store.customers.search_names(ws, ["ama"], 10, 0)
    assert found.customer_id == a.customer_id and found.stats.total_spent == 0


async def test_a_search_pages_through_matches_only(store: Any) -> None:
    ws = random_ref("ws")
    await store.add(ws, [card(ws, phones=[f"06123456{i:02d}"]) for i in range(5)])
    await store.add(ws, [card(ws, phones=["0698765432", "0711111111"])])
    first = await store.customers.search_digits(ws, "6123456", 3, 0)
    rest = await store.customers.search_digits(ws, "6123456", 3, 3)
    assert len(first) == 3 and len(rest) == 2
    assert not {c.customer_id for c in first} & {c.customer_id for c in rest}
    assert await store.customers.search_digits(ws, "6987654329", 3, 0) == []


async def test_orders_keep_their_latest_version_and_stats_follow_merges(store: Any) -> None:
    ws = random_ref("ws")
    a, b = card(ws, name="A"), card(ws, name="B")
    await store.add(ws, [a, b])
    assert await store.orders.apply(ws, row("o1", a.customer_id, "100.10", 1)) == [a.customer_id]
    assert await store.orders.apply(ws, row("o1", a.customer_id, "100.10", 1)) == []
    assert await store.orders.apply(ws, row("o2", b.customer_id, "0.20", 2, "cancelled")) != []
    assert await store.orders.apply(ws, row("o2", b.customer_id, "0.20", 1)) == []
    moved = await store.orders.apply(ws, row("o3", b.customer_id, "50.00", 1))
    assert moved == [b.customer_id]
    assert set(await store.orders.apply(ws, row("o3", a.customer_id, "50.00", 2))) == {
        a.customer_id,
        b.customer_id,
    }
    survivor = merge(a, [b], "agent", NOW)
    record = MergeRecord(
        merge_id=random_ref("m"),
        survivor_id=a.customer_id,
        absorbed_ids=[b.customer_id],
        merged_by="agent",
        merged_at=NOW,
    )
    assert await store.merge(a, survivor, [b], record, events.created(survivor, AGENT))
    await store.refresh_stats(ws, b.customer_id)  # an absorbed id resolves to its survivor
    merged = await store.customers.get(ws, a.customer_id)
    assert merged.stats.orders_count == 3 and merged.stats.not_spent_count == 1
    assert merged.stats.total_spent == Decimal("150.10")
    assert (await store.customers.get(ws, b.customer_id)).merged_into == a.customer_id
    assert await store.customers.find_by_keys(ws, []) == []
    assert [m.merge_id for m in await store.merges.recent(ws, 5)] == [record.merge_id]


async def test_events_wait_on_their_card_until_marked_published(store: Any) -> None:
    ws = random_ref("ws")
    a, b = card(ws, name="A"), card(ws, name="B")
    created = events.created(a, AGENT)
    await store.add(ws, [a, b], {a.customer_id: [created]})
    renamed = a.touched("a", NOW, name="Aïcha")
    update = events.updated(renamed, ["name"], AGENT)
    assert await store.save(a, renamed, [update])
    assert not await store.save(a, renamed, [events.updated(renamed, ["city"], AGENT)])
    outbox, later = store.customers.outbox, datetime.now(UTC) + timedelta(minutes=1)
    assert await outbox.stale(later, 10) == [a.customer_id]
    pending = await outbox.pending(a.customer_id)
    assert [e["id"] for e in pending] == [created.id, update.id]
    assert pending[1]["event"] == update.model_dump(mode="json", exclude_none=True)
    assert {e["topic"] for e in pending} == {"customers.events.v1"}
    assert await outbox.pending(b.customer_id) == []
    assert (await store.customers.get(ws, a.customer_id)).name == "Aïcha"
    await outbox.clear(a.customer_id, pending[:1])
    assert [e["id"] for e in await outbox.pending(a.customer_id)] == [update.id]
    await outbox.clear(a.customer_id, pending[1:])
    assert await outbox.pending(a.customer_id) == []
    assert await outbox.stale(later, 10) == []
