"""A consumer's batch on the real store: written with a few bulk operations, whatever its size,
and leaving what handling its messages one at a time leaves (the same cards, the same events
in the outbox); a redelivered batch, or a message twice in it, changes nothing."""

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from customers.cards.model import (
    CardFields,
    Customer,
    OrderRow,
    Stats,
    WorkspaceSettings,
    new_customer,
)
from customers.matching.contacts import match_batch
from customers.store import Store
from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.customers import Identity
from hanout_shared.contracts.whatsapp import MessageReceivedEvent

from .builders import a_message_from, an_order, random_ref

pytestmark = pytest.mark.integration
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


class Commands(monitoring.CommandListener):
    """The store commands sent, by (command, collection)."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = event.command.get(event.command_name)
        if isinstance(collection, str):
            self.seen[(event.command_name, collection)] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

    def writes(self) -> Counter[str]:
        kinds = ("insert", "update", "delete")
        return Counter({c: n for (kind, c), n in self.seen.items() if kind in kinds})

    def reads(self) -> Counter[str]:
        return Counter({c: n for (kind, c), n in self.seen.items() if kind == "find"})


@dataclass
class Counted:
    store: Store
    commands: Commands


@pytest.fixture
async def db(mongodb_url: str) -> AsyncIterator[Counted]:
    commands = Commands()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_url, tz_aware=True, event_listeners=[commands]
    )
    name = f"customers_batches_{uuid.uuid4().hex[:8]}"
    try:
        store = Store(client[name])
        await store.ensure_indexes()
        yield Counted(store, commands)
    finally:
        await client.drop_database(name)
        await client.close()


def card(ws: str, **fields: Any) -> Customer:
    draft = CardFields.model_validate(fields)
    return new_customer(draft, WorkspaceSettings(), workspace_id=ws, actor="a", now=NOW)


def number(i: int) -> str:
    """A valid Moroccan mobile, as a wa_id."""
    return f"21266123{i:04d}"


async def outbox(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The events waiting on a card, as they will go on the wire (less the time they were made)."""
    pending = await store.customers.outbox.pending(customer_id)
    return [{k: v for k, v in e["event"].items() if k != "time"} for e in pending]


async def test_a_batch_of_many_new_contacts_is_one_read_and_one_write(db: Counted) -> None:
    ws = random_ref("ws")
    batch = [a_message_from(ws, wa_id=number(i), profile_name=f"C{i}") for i in range(150)]
    db.commands.seen.clear()
    matched, learned = await match_batch(db.store, batch)
    assert [m.data.outcome for m in matched] == ["unknown"] * 150
    assert [m.subject for m in matched] == [m.data.conversation_key for m in batch]
    assert learned == []
    assert db.commands.reads() == {"customers": 1}
    assert db.commands.writes() == {"customer_keys": 1}
    info = await db.store.keys.contact(ws, [f"tel:+{number(149)}"])
    assert info is not None and info.profile_name == "C149"


async def test_cards_learning_in_a_batch_leave_the_events_one_message_at_a_time_leaves(
    db: Counted,
) -> None:
    batched, single = random_ref("ws"), random_ref("ws")
    cards = {
        ws: [card(ws, name=f"K{i}", phones=[f"+{number(i)}"]) for i in range(20)]
        for ws in (batched, single)
    }
    for ws, of_ws in cards.items():
        await db.store.add(ws, of_ws)

    def messages(ws: str) -> list[MessageReceivedEvent]:
        # Each card is written to twice: a BSUID, then a username (the same wamids and times in
        # both workspaces, so that the events can be compared).
        first = [a_message_from(ws, wa_id=number(i), user_id=f"MA.{i}") for i in range(20)]
        second = [a_message_from(ws, wa_id=number(i), username=f"k{i}") for i in range(20)]
        return [
            m.model_copy(update={"time": NOW, "id": deterministic_id("batches", n)})
            for n, m in enumerate(first + second)
        ]

    db.commands.seen.clear()
    _, learned = await match_batch(db.store, messages(batched))
    assert sorted(learned) == sorted(c.customer_id for c in cards[batched])
    assert db.commands.writes() == {"customers": 1, "customer_keys": 1}
    assert db.commands.reads() == {"customers": 1}
    for message in messages(single):
        await match_batch(db.store, [message])
    for mine, theirs in zip(cards[batched], cards[single], strict=True):
        got = await db.store.customers.get(batched, mine.customer_id)
        want = await db.store.customers.get(single, theirs.customer_id)
        assert got is not None and want is not None
        assert got.version == want.version == 3
        assert len(got.identities) == 2 and got.identities == want.identities
        events = await outbox(db.store, mine.customer_id)
        expected = await outbox(db.store, theirs.customer_id)
        assert [e["data"]["customer"]["version"] for e in events] == [2, 3]
        assert _comparable(events, mine, batched) == _comparable(expected, theirs, single)


def _comparable(events: Sequence[dict[str, Any]], customer: Customer, ws: str) -> list[Any]:
    """The events with the workspace and the card's id taken out: the rest must be the same."""
    text = str([{k: v for k, v in e.items() if k != "id"} for e in events])
    return [text.replace(customer.customer_id, "<card>").replace(ws, "<ws>")]


async def test_the_same_contact_twice_in_a_batch_learns_once(db: Counted) -> None:
    ws = random_ref("ws")
    karim = card(ws, name="Karim", phones=["0612345678"])
    await db.store.add(ws, [karim])
    message = a_message_from(ws, user_id="MA.7", username="karim.shop")
    matched, learned = await match_batch(db.store, [message, message])
    assert learned == [karim.customer_id]
    assert [m.data.customer_id for m in matched] == [karim.customer_id] * 2
    assert len({m.id for m in matched}) == 1
    [event] = await outbox(db.store, karim.customer_id)
    assert event["data"]["customer"]["version"] == 2


async def test_a_redelivered_batch_writes_nothing_and_announces_nothing_new(db: Counted) -> None:
    ws = random_ref("ws")
    karim = card(ws, name="Karim", phones=["0612345678"])
    await db.store.add(ws, [karim])
    batch = [a_message_from(ws, user_id="MA.8"), a_message_from(ws, wa_id=number(1))]
    first, _ = await match_batch(db.store, batch)
    pending = await outbox(db.store, karim.customer_id)
    db.commands.seen.clear()
    again, learned = await match_batch(db.store, batch)
    assert learned == [] and [m.id for m in again] == [m.id for m in first]
    assert await outbox(db.store, karim.customer_id) == pending
    assert "customers" not in db.commands.writes()
    got = await db.store.customers.get(ws, karim.customer_id)
    assert got is not None and got.version == 2


async def test_a_batch_of_several_workspaces_matches_each_in_its_own(db: Counted) -> None:
    shop_a, shop_b = random_ref("ws"), random_ref("ws")
    karim = card(shop_a, name="Karim", phones=["0612345678"])
    nadia = card(shop_b, name="Nadia", phones=["0698765432"])
    await db.store.add(shop_a, [karim])
    await db.store.add(shop_b, [nadia])
    batch = [
        a_message_from(shop_a, user_id="MA.1"),
        a_message_from(shop_b, user_id="MA.1"),  # Karim's number, in the other shop
        a_message_from(shop_b, wa_id="212698765432", username="nadia"),
    ]
    db.commands.seen.clear()
    matched, learned = await match_batch(db.store, batch)
    assert [(m.workspaceid, m.data.outcome, m.data.customer_id) for m in matched] == [
        (shop_a, "known", karim.customer_id),
        (shop_b, "unknown", None),
        (shop_b, "known", nadia.customer_id),
    ]
    assert sorted(learned) == sorted([karim.customer_id, nadia.customer_id])
    assert db.commands.reads() == {"customers": 2}  # one indexed query per workspace
    assert db.commands.writes() == {"customers": 1, "customer_keys": 2}
    assert (await db.store.keys.shared(shop_b, 10)) == []
    found = await db.store.customers.find_by_keys(shop_a, ["bsuid:110928374650192:MA.1"])
    assert [c.customer_id for c in found] == [karim.customer_id]


async def stats_of(store: Store, ws: str, customer_id: str) -> Stats:
    found = await store.customers.get(ws, customer_id)
    assert found is not None
    return found.stats


def order_row(customer_id: str, version: int = 1, state: str = "new", **fields: Any) -> OrderRow:
    order = an_order(customer_id, version=version, state=state, **fields)
    return OrderRow.of(order)


async def test_a_batch_of_order_events_keeps_the_latest_of_each_and_counts_each_once(
    db: Counted,
) -> None:
    shop_a, shop_b = random_ref("ws"), random_ref("ws")
    a_cards = [card(shop_a, name=f"A{i}") for i in range(30)]
    b_card = card(shop_b, name="B")
    await db.store.add(shop_a, a_cards)
    await db.store.add(shop_b, [b_card])
    orders = [order_row(c.customer_id, total="100.00") for c in a_cards]
    cancelled = orders[0].model_copy(update={"version": 2, "state": "cancelled"})
    moved_to = orders[1].model_copy(update={"version": 2, "customer_id": a_cards[2].customer_id})
    rows = [(shop_a, row) for row in orders] + [
        (shop_a, cancelled),
        (shop_a, orders[0]),  # an older version, late
        (shop_a, moved_to),
        (shop_b, order_row(b_card.customer_id, total="10.50")),
        (shop_b, order_row(a_cards[3].customer_id, total="5.00")),  # a card of another shop
    ]
    db.commands.seen.clear()
    moved = await db.store.orders.apply_all(rows)
    await db.store.refresh_all_stats(moved)
    assert db.commands.writes() == {"orders": 1, "customers": 1}
    assert db.commands.reads() == {"orders": 3, "customers": 1}  # projection; one per shop
    stats = {c.customer_id: await stats_of(db.store, shop_a, c.customer_id) for c in a_cards}
    counts = [(s.orders_count, s.not_spent_count) for s in stats.values()]
    assert counts[:5] == [(1, 1), (0, 0), (2, 0), (1, 0), (1, 0)]  # a3: the other shop's not its
    assert str((await stats_of(db.store, shop_b, b_card.customer_id)).total_spent) == "10.50"
    db.commands.seen.clear()
    assert await db.store.orders.apply_all(rows) == []  # redelivered: nothing moves
    assert db.commands.writes() == {}


async def test_a_card_changed_meanwhile_is_left_out_of_the_bulk_write(db: Counted) -> None:
    ws = random_ref("ws")
    karim, nadia = card(ws, name="Karim"), card(ws, name="Nadia")
    await db.store.add(ws, [karim, nadia])
    assert await db.store.save(karim, karim.touched("a", NOW, name="Karim A."), [])
    bsuid = Identity(kind="bsuid", value="MA.3", scope="1")
    changes = [(c, c.touched(None, NOW, identities=[bsuid]), []) for c in (karim, nadia)]
    left = await db.store.save_all(changes)
    assert [after.customer_id for _, after, _ in left] == [karim.customer_id]
    found = await db.store.customers.find_by_keys(ws, ["bsuid:1:MA.3"])
    assert [c.customer_id for c in found] == [nadia.customer_id]
    kept = await db.store.customers.get(ws, karim.customer_id)
    assert kept is not None and (kept.name, kept.identities) == ("Karim A.", [])


async def test_a_card_changed_since_the_batch_read_it_learns_from_its_fresh_state(
    db: Counted,
) -> None:
    ws = random_ref("ws")
    karim = card(ws, name="Karim", phones=["0612345678"])
    await db.store.add(ws, [karim])
    assert await db.store.save(karim, karim.touched("a", NOW, city="Fès"), [])

    async def as_read_before(_: Any) -> list[Customer]:
        return [karim]  # what the batch read, before the agent's edit

    db.store.customers.holding = as_read_before  # type: ignore[method-assign]
    message = a_message_from(ws, user_id="MA.5")
    _, learned = await match_batch(db.store, [message])
    assert learned == [karim.customer_id]
    fresh = await db.store.customers.get(ws, karim.customer_id)
    assert fresh is not None and fresh.city == "Fès" and fresh.version == 3
    assert [i.value for i in fresh.identities] == ["MA.5"]
    [event] = await outbox(db.store, karim.customer_id)
    assert event["data"]["customer"]["city"] == "Fès"
    assert event["id"] == deterministic_id(message.id, "learned", karim.customer_id, 3)
