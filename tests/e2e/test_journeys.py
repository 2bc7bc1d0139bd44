"""The product brief's flows on every service as its own process, the simulator playing Meta and
the customers: first message to delivered order, a reply and its ticks, two shops kept apart, and
every delivered message in the inbox exactly once."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from .clients import Pending, Simulator, a_moroccan_mobile, eventually
from .shops import Shop
from .steps import (
    BELGHA,
    JELLABA,
    cancel,
    customer_from,
    first_contact,
    line_total,
    matched,
    matches_of,
    move,
    place_order,
    stats_reaching,
)
from .tap import Tap

pytestmark = pytest.mark.e2e
SHOPPER = (a_moroccan_mobile(), "Youssef El Amrani")  # writes to both shops


@pytest.mark.parametrize("index", [0, 1], ids=["first-number", "second-number"])
async def test_a_first_message_ends_as_a_delivered_order_in_the_customer_s_stats(
    index: int, shops: list[Shop], simulator: Simulator, customer_events: Tap
) -> None:
    shop, (wa_id, name) = shops[index], SHOPPER
    conversation = await first_contact(shop, simulator, wa_id, name)
    assert conversation["display_name"] == name
    card = await customer_from(shop, conversation, wa_id)
    assert card["name"] == name and [p["e164"] for p in card["phones"]] == [f"+{wa_id}"]
    known = await eventually(lambda: matched(shop, wa_id, "known"), "the conversation known")
    assert known["customer"]["customer_id"] == card["customer_id"]

    key = conversation["conversation_key"]
    [later] = await simulator.customer_writes(shop.channel, wa_id, ["Livraison?"], name=name)
    found = await eventually(
        lambda: _known(matches_of(customer_events, shop, later)), "the later message known"
    )
    assert found["customer_id"] == card["customer_id"]

    order = await place_order(shop, card, conversation, JELLABA)
    assert (order["stage"]["id"], Decimal(order["total"])) == ("new", line_total(JELLABA))
    for stage in ("confirmed", "shipped", "delivered"):
        order = await move(shop, order, stage)
        assert order["stage"]["id"] == stage
    refused = await cancel(shop, await place_order(shop, card, conversation, BELGHA), "Injoignable")
    assert refused["stage"]["state"] == "cancelled"

    expected = {
        "orders_count": 2,
        "not_spent_count": 1,
        "total_spent": line_total(JELLABA),
        "currency": "MAD",
    }
    customer_id = card["customer_id"]
    await eventually(lambda: stats_reaching(shop, customer_id, expected), "the customer's stats")
    history = await shop.agent.ok("orders", "GET", "/orders", params={"customer_id": customer_id})
    assert [o["id"] for o in history["items"]] == [refused["id"], order["id"]]
    by_chat = await shop.agent.ok("orders", "GET", "/orders", params={"conversation_key": key})
    assert {o["id"] for o in by_chat["items"]} == {refused["id"], order["id"]}
    detail = await shop.agent.ok("orders", "GET", f"/orders/{order['id']}")
    moves = [(h["kind"], (h["to_stage"] or {}).get("id")) for h in detail["history"]]
    assert moves == [("created", "new")] + [
        ("stage_changed", s) for s in ("confirmed", "shipped", "delivered")
    ]


async def _known(matches: Any) -> Any:
    seen = await matches
    return next((m for m in seen if m["outcome"] == "known"), Pending(seen))


@pytest.mark.parametrize("index", [0, 1], ids=["first-number", "second-number"])
async def test_an_agent_s_reply_reaches_meta_once_and_its_ticks_come_back_as_read(
    index: int, shops: list[Shop], simulator: Simulator
) -> None:
    shop, wa_id = shops[index], a_moroccan_mobile()
    await simulator.customer_writes(shop.channel, wa_id, ["Bsh7al had l9ami9?"], name="Salma")
    conversation = await eventually(
        lambda: shop.agent.conversation_with(shop.channel, wa_id), "the customer's conversation"
    )
    assert conversation["unread_count"] == 1 and conversation["window"]["open"]
    path, text = f"/conversations/{conversation['id']}/messages", "Merhba! 149 dh, livraison 24h."
    click = {"json": {"content": {"kind": "text", "body": text}},
             "headers": {"Idempotency-Key": uuid.uuid4().hex}}  # fmt: skip
    first = await shop.agent.call("inbox", "POST", path, **click)
    again = await shop.agent.call("inbox", "POST", path, **click)  # a double click
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]

    async def read_tick() -> Any:
        timeline = await shop.agent.timeline(conversation["id"])
        sent = next(m for m in timeline if m["id"] == first.json()["id"])
        return sent if sent["status"] == "read" else Pending(sent["status"])

    sent = await eventually(read_tick, "the reply's read tick")
    assert {"sent", "delivered", "read"} <= set(sent["status_times"]) and sent["wamid"]
    sends = await simulator.sends_to(wa_id)
    number = shop.channel.phone_number_id
    assert [(s["body"]["text"]["body"], f"/{number}/messages" in s["path"]) for s in sends] == [
        (text, True)
    ]

    read = await shop.agent.ok("inbox", "POST", f"/conversations/{conversation['id']}/read")
    assert read["unread_count"] == 0 and not read["awaiting_reply"]
    unread = await shop.agent.ok("inbox", "GET", "/conversations", params={"filter": "unread"})
    assert conversation["id"] not in {row["id"] for row in unread["items"]}


async def test_two_shops_never_see_each_other_s_data(
    shops: list[Shop], simulator: Simulator
) -> None:
    souk, bazar = shops
    wa_id = a_moroccan_mobile()
    theirs = await first_contact(souk, simulator, wa_id, "Hamza Benali")
    ours = await first_contact(bazar, simulator, wa_id, "Hamza Benali")
    card = await customer_from(souk, theirs, wa_id)
    order = await place_order(souk, card, theirs, JELLABA)
    await eventually(lambda: matched(souk, wa_id, "known"), "souk's conversation known")

    for service, path in [
        ("inbox", f"/conversations/{theirs['id']}"),
        ("inbox", f"/conversations/{theirs['id']}/messages"),
        ("customers", f"/customers/{card['customer_id']}"),
        ("orders", f"/orders/{order['id']}"),
    ]:
        response = await bazar.agent.call(service, "GET", path)
        assert response.status_code == 404, (path, response.text)
        assert wa_id not in response.text and card["customer_id"] not in response.text
    lookup = await bazar.agent.ok("customers", "GET", "/customers/lookup", params={"wa_id": wa_id})
    assert lookup["outcome"] == "unknown"
    assert (await matched(bazar, wa_id, "unknown"))["id"] == ours["id"]  # type: ignore[index]
    for params in (
        {"customer_id": card["customer_id"]},
        {"conversation_key": theirs["conversation_key"]},
    ):
        assert (await bazar.agent.ok("orders", "GET", "/orders", params=params))["items"] == []
    listed = await bazar.agent.conversations()
    assert {row["phone_number_id"] for row in listed} == {bazar.channel.phone_number_id}
    channels = await bazar.admin.ok("ingest", "GET", "/channels")
    assert [c["phone_number_id"] for c in channels] == [bazar.channel.phone_number_id]
    stolen = await bazar.agent.call(
        "inbox", "POST", f"/conversations/{theirs['id']}/messages",
        json={"content": {"kind": "text", "body": "Salam"}}, headers={"Idempotency-Key": "x1"},
    )  # fmt: skip
    assert stolen.status_code == 404
    assert await simulator.sends_to(wa_id) == []


async def test_every_message_the_simulator_delivered_is_in_the_inbox_exactly_once(
    shops: list[Shop], simulator: Simulator
) -> None:
    for shop in shops:
        await simulator.batch(shop.channel, a_moroccan_mobile(), 5, name="Batch")
        texts = ["Salam", "Wach mzyan?", "Chokran"]
        await simulator.customer_writes(shop.channel, a_moroccan_mobile(), texts, name="Twice",
                                        duplicates=1)  # fmt: skip
    delivered = await eventually(lambda: _all_delivered(simulator), "every webhook delivered")
    inbound = set(simulator.inbound_wamids)

    async def seen_once() -> Any:
        counts = await _wamids_in_inbox(shops)
        return (
            counts
            if inbound <= {w for (d, w) in counts if d == "inbound"}
            else Pending(sorted(inbound - {w for (_, w) in counts})[:3])
        )

    counts = await eventually(seen_once, "every delivered message in the inbox")
    assert {w for (d, w) in counts if d == "inbound"} == inbound  # nothing invented
    assert {key: n for key, n in counts.items() if n != 1} == {}  # nothing doubled
    outbound = {w for record in delivered for w in record["wamids"]} - inbound
    assert outbound <= {w for (d, w) in counts if d == "outbound"}


async def _all_delivered(simulator: Simulator) -> Any:
    records = await simulator.deliveries()
    waiting = [r["id"] for r in records if not r["delivered"]]
    assert not [r for r in records if r["given_up"]], "the simulator gave up on a webhook"
    return records if not waiting else Pending(f"{len(waiting)} deliveries in flight")


async def _wamids_in_inbox(shops: list[Shop]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for shop in shops:
        for row in await shop.agent.conversations():
            for message in await shop.agent.timeline(row["id"]):
                if message.get("wamid"):
                    counts[(message["direction"], message["wamid"])] += 1
    return counts
