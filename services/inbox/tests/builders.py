"""Small builders for inbox tests (random ids so tests never collide on a shared store)."""

import uuid
from datetime import UTC, datetime

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MessageReceived,
    MessageReceivedEvent,
    conversation_key,
)


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def a_message_received(
    *,
    workspace_id: str,
    wa_id: str = "212612345678",
    text: str | None = "Salam, wach kayn had l'produit?",
    sent_at: datetime | None = None,
    wamid: str | None = None,
    profile_name: str = "Karim",
) -> MessageReceivedEvent:
    wamid = wamid or random_ref("wamid.HBgM")
    key = conversation_key(workspace_id, "110928374650192", wa_id)
    sent_at = sent_at or datetime.now(UTC).replace(microsecond=0)
    data = MessageReceived(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id="110928374650192"),
        contact=ContactIdentity(wa_id=wa_id, profile_name=profile_name),
        message_type="text" if text else "image",
        sent_at=sent_at,
        text=text,
    )
    return MessageReceivedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(wamid, "received"),
        time=sent_at,
    )
