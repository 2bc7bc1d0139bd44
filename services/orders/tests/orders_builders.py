"""Small builders for orders tests (random ids so tests never collide on a shared store)."""

import uuid
from typing import Any

from hanout_shared.contracts.customers import CustomerCard, CustomerMerged, CustomerMergedEvent
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(
    workspace_id: str, *, agent: str = "agent-1", name: str = "Salma", admin: bool = False
) -> dict[str, str]:
    roles = ["agent", "admin"] if admin else ["agent"]
    token = mint_dev_token(
        DEV_JWT_SECRET, agent_id=agent, workspace_id=workspace_id, name=name, roles=roles
    )
    return {"Authorization": f"Bearer {token}"}


def an_order(customer_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id or random_ref("cus"),
        "lines": [
            {"name": "Caftan brodé", "sku": "CAF-01", "quantity": 2, "unit_price": "249.90"},
            {"name": "Babouches", "quantity": 1, "unit_price": "120.00"},
        ],
        "shipping_fee": "35.00",
        "shipping_city": "Casablanca",
        "shipping_address": "12 rue Ibnou Mounir, Maârif",
    }
    return body | fields


def a_merge(
    workspace_id: str, survivor_id: str, absorbed_ids: list[str], event_id: str | None = None
) -> CustomerMergedEvent:
    data = CustomerMerged(
        survivor_id=survivor_id,
        absorbed_ids=absorbed_ids,
        survivor=CustomerCard(customer_id=survivor_id, name="Karim Bennani", version=3),
    )
    return CustomerMergedEvent.create(
        source="hanout/customers",
        workspaceid=workspace_id,
        subject=survivor_id,
        data=data,
        id=event_id,
        actorid="agent-7",
        actorname="Youssef",
        correlationid=random_ref("corr"),
    )
