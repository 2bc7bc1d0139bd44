"""The steps of the product brief's flows, as an agent and a customer take them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hanout_shared.contracts import deterministic_id

from .clients import Pending, Simulator, eventually
from .shops import Shop
from .tap import Tap

JELLABA = {"name": "Jellaba beldi", "quantity": 2, "unit_price": "149.50"}
BELGHA = {"name": "Belgha en cuir", "quantity": 1, "unit_price": "99.90"}
SHIPPING = "30.00"


async def matched(shop: Shop, wa_id: str, outcome: str) -> dict[str, Any] | None:
    """The contact's conversation once the customer base has matched it with `outcome`."""
    row = await shop.agent.conversation_with(shop.channel, wa_id)
    found = row and (row.get("customer") or {}).get("outcome") == outcome
    return row if found else None


async def first_contact(shop: Shop, simulator: Simulator, wa_id: str, name: str) -> dict[str, Any]:
    """A new contact writes: the conversation shows up, matched `unknown`."""
    await simulator.customer_writes(shop.channel, wa_id, ["Salam, bghit had jellaba"], name=name)
    return await eventually(lambda: matched(shop, wa_id, "unknown"), f"{wa_id} listed as unknown")


async def customer_from(shop: Shop, conversation: dict[str, Any], wa_id: str) -> dict[str, Any]:
    """The agent creates the card from the panel, pre-filled with what WhatsApp told us."""
    lookup = await shop.agent.ok("customers", "GET", "/customers/lookup", params={"wa_id": wa_id})
    assert lookup["outcome"] == "unknown", lookup
    contact = lookup["contact"]
    assert contact["phone_e164"] == f"+{wa_id}", contact
    draft = {
        "name": contact["profile_name"],
        "phones": [contact["phone_e164"]],
        "identities": contact["identities"],
        "city": "Casablanca",
        "conversation_key": conversation["conversation_key"],
    }
    card: dict[str, Any] = await shop.agent.ok("customers", "POST", "/customers", json=draft)
    return card


async def matches_of(tap: Tap, shop: Shop, wamid: str) -> list[dict[str, Any]]:
    """What customers published about who wrote this message (the event id derives from it).

    On a shared broker another stack's customers service may match the same message against its
    own (empty) base under the same id: the test looks for this stack's answer among them."""
    event_id = deterministic_id(deterministic_id(wamid, "received"), "contact.matched")
    return [
        event["data"]
        for event in await tap.read(shop.workspace_id)
        if event["type"] == "customers.contact.matched" and event["id"] == event_id
    ]


async def place_order(
    shop: Shop, card: dict[str, Any], conversation: dict[str, Any], line: Any
) -> Any:
    draft = {
        "customer_id": card["customer_id"],
        "conversation_key": conversation["conversation_key"],
        "phone_number_id": shop.channel.phone_number_id,
        "lines": [line],
        "shipping_fee": SHIPPING,
        "shipping_city": "Casablanca",
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    return await shop.agent.ok("orders", "POST", "/orders", json=draft, headers=key)


async def move(shop: Shop, order: dict[str, Any], stage_id: str) -> Any:
    path, seen = f"/orders/{order['id']}/stage", {"If-Match": f'"{order["version"]}"'}
    return await shop.agent.ok("orders", "POST", path, json={"stage_id": stage_id}, headers=seen)


async def cancel(shop: Shop, order: dict[str, Any], reason: str) -> Any:
    path, seen = f"/orders/{order['id']}/cancel", {"If-Match": f'"{order["version"]}"'}
    return await shop.agent.ok("orders", "POST", path, json={"reason": reason}, headers=seen)


def line_total(line: dict[str, Any]) -> Decimal:
    return Decimal(line["unit_price"]) * int(line["quantity"]) + Decimal(SHIPPING)


async def stats_reaching(shop: Shop, customer_id: str, expected: dict[str, Any]) -> Any:
    """The card's stats once they are `expected` (count, not spent, total in MAD)."""
    card = await shop.agent.ok("customers", "GET", f"/customers/{customer_id}")
    stats = card["stats"]
    seen = {
        "orders_count": stats["orders_count"],
        "not_spent_count": stats["not_spent_count"],
        "total_spent": Decimal(stats["total_spent"]),
        "currency": stats["currency"],
    }
    return stats if seen == expected else Pending(seen)
