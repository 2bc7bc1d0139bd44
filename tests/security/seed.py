"""A tenant with one of everything the APIs name in a path, made through the APIs themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.e2e.clients import Simulator, a_moroccan_mobile, eventually
from tests.e2e.shops import Shop, open_shop
from tests.e2e.stack import Stack


@dataclass
class Tenant:
    shop: Shop
    ids: dict[str, str]  # path parameter name -> a real resource of this workspace
    marks: set[str]  # strings that only this workspace's data contains

    @property
    def workspace_id(self) -> str:
        return self.shop.workspace_id


async def _conversation(shop: Shop, simulator: Simulator, wa_id: str, name: str) -> Any:
    await simulator.customer_writes(shop.channel, wa_id, ["Salam"], name=name)
    return await eventually(
        lambda: shop.agent.conversation_with(shop.channel, wa_id), f"{shop.workspace_id} chat"
    )


async def seed_tenant(stack: Stack, simulator: Simulator, name: str) -> Tenant:
    shop, wa_id = await open_shop(stack, name), a_moroccan_mobile()
    person = f"{name.title()} Zmerli {uuid.uuid4().hex[:6]}"
    api = shop.admin
    chat = await _conversation(shop, simulator, wa_id, person)
    sent = await api.ok(
        "inbox", "POST", f"/conversations/{chat['id']}/messages",
        json={"content": {"kind": "text", "body": "Merhba"}},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    draft = {"name": person, "phones": [f"+{wa_id}"], "conversation_key": chat["conversation_key"]}
    card = await api.ok("customers", "POST", "/customers", json=draft)
    twin = await api.ok("customers", "POST", "/customers", json={"name": f"{person} bis"})
    line = {"name": f"Caftan {person}", "quantity": 1, "unit_price": "450.00"}
    order = await api.ok(
        "orders", "POST", "/orders",
        json={"customer_id": card["customer_id"], "lines": [line],
              "conversation_key": chat["conversation_key"]},
    )  # fmt: skip
    csv = f"name,phone\n{person} import,06{uuid.uuid4().int % 10**8:08d}\n".encode()
    job = await api.ok(
        "customers", "POST", "/customers/imports",
        content=csv, headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    media = await api.ok(
        "ingest", "POST", f"/channels/{shop.channel.phone_number_id}/media",
        params={"filename": "facture.txt"}, content=b"facture",
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    ids = {
        "phone_number_id": shop.channel.phone_number_id,
        "conversation_id": chat["id"],
        "message_id": sent["id"],
        "customer_id": card["customer_id"],
        "survivor_id": card["customer_id"],
        "absorbed_id": twin["customer_id"],
        "import_id": job["import_id"],
        "order_id": order["id"],
        "number": str(order["number"]),
        "media_id": media["media_id"],
    }
    marks = {value for key, value in ids.items() if key != "number"} | {wa_id, person}
    return Tenant(shop, ids, marks)
