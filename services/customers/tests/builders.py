"""Small builders for customers tests (random ids so tests never collide on a shared store)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

from customers.store import Store
from devtools.scratch import scratch_database
from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.orders import (
    OrderCancelled,
    OrderCancelledEvent,
    OrderCreated,
    OrderCreatedEvent,
    OrderSummary,
    Stage,
)
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MessageReceived,
    MessageReceivedEvent,
    conversation_key,
)
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

PHONE_NUMBER_ID = "110928374650192"


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def token_for(
    workspace_id: str, *, role: str = "agent", agent_id: str = "agent-1"
) -> dict[str, str]:
    token = mint_dev_token(
        DEV_JWT_SECRET, agent_id=agent_id, workspace_id=workspace_id, name="Salma", roles=[role]
    )
    return {"Authorization": f"Bearer {token}"}


def a_message_from(
    workspace_id: str,
    *,
    wa_id: str | None = "212612345678",
    user_id: str | None = None,
    username: str | None = None,
    profile_name: str | None = "Karim",
    wamid: str | None = None,
    phone_e164: str | None = None,
) -> MessageReceivedEvent:
    """`phone_e164` unset: an event from before ingest read the number from the wa_id."""
    wamid = wamid or random_ref("wamid.HBgM")
    contact = ContactIdentity(
        wa_id=wa_id,
        phone_e164=phone_e164,
        user_id=user_id,
        username=username,
        profile_name=profile_name,
    )
    key = conversation_key(workspace_id, PHONE_NUMBER_ID, contact.contact_id())
    sent_at = datetime.now(UTC).replace(microsecond=0)
    data = MessageReceived(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id=PHONE_NUMBER_ID),
        contact=contact,
        message_type="text",
        sent_at=sent_at,
        text="Salam, wach kayn had l'produit?",
    )
    return MessageReceivedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(wamid, "received"),
        time=sent_at,
    )


def an_order(
    customer_id: str,
    *,
    order_id: str | None = None,
    total: str = "249.90",
    state: str = "new",
    version: int = 1,
    placed_at: datetime | None = None,
) -> OrderSummary:
    return OrderSummary(
        order_id=order_id or random_ref("ord"),
        number=1001,
        label="#1001",
        customer_id=customer_id,
        total=Decimal(total),
        stage=Stage(id=state, name=state.title(), color="#16a34a", state=state),
        placed_at=placed_at or datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        version=version,
    )


def order_created(workspace_id: str, order: OrderSummary) -> OrderCreatedEvent:
    return OrderCreatedEvent.create(
        source="hanout/orders",
        workspaceid=workspace_id,
        subject=order.order_id,
        data=OrderCreated(order=order, lines=[]),
        id=deterministic_id(order.order_id, order.version),
    )


def order_cancelled(workspace_id: str, order: OrderSummary) -> OrderCancelledEvent:
    return OrderCancelledEvent.create(
        source="hanout/orders",
        workspaceid=workspace_id,
        subject=order.order_id,
        data=OrderCancelled(order=order, reason="customer changed their mind"),
        id=deterministic_id(order.order_id, order.version),
    )


@asynccontextmanager
async def real_store(mongodb_url: str, prefix: str) -> AsyncIterator[Store]:
    """A Store on a scratch database of the real store, indexed."""
    async with scratch_database(mongodb_url, prefix) as db:
        store = Store(db)
        await store.ensure_indexes()
        yield store
