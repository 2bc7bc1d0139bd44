"""Small builders for inbox tests (random ids so tests never collide on a shared store)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from devtools.scratch import scratch_database
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import ContactMatched, ContactMatchedEvent
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MessageAccepted,
    MessageAcceptedEvent,
    MessageContext,
    MessageFailed,
    MessageFailedEvent,
    MessageReceived,
    MessageReceivedEvent,
    MetaError,
    Reaction,
    Referral,
    StatusChanged,
    StatusChangedEvent,
    Template,
    TemplateSection,
    TemplatesSynced,
    TemplatesSyncedEvent,
    conversation_key,
)
from hanout_shared.platform.outbox import outbox_entries
from inbox.store import Store

from .samples import SAMPLES

PHONE_NUMBER_ID = "110928374650192"
WA_ID = "212612345678"
DEFAULT_TEXT = "Salam, wach kayn had l'produit?"


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def key_of(workspace_id: str, wa_id: str = WA_ID, phone_number_id: str = PHONE_NUMBER_ID) -> str:
    return conversation_key(workspace_id, phone_number_id, wa_id)


def a_message_received(
    *,
    workspace_id: str,
    wa_id: str | None = WA_ID,
    user_id: str | None = None,
    text: str | None = None,
    kind: str = "text",
    sent_at: datetime | None = None,
    wamid: str | None = None,
    profile_name: str | None = "Karim",
    phone_number_id: str = PHONE_NUMBER_ID,
    **parts: Any,
) -> MessageReceivedEvent:
    wamid = wamid or random_ref("wamid.HBgM")
    contact = ContactIdentity(wa_id=wa_id, user_id=user_id, profile_name=profile_name)
    key = conversation_key(workspace_id, phone_number_id, contact.contact_id())
    sent_at = sent_at or now()
    data = MessageReceived(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id=phone_number_id, display_phone_number="212522000111"),
        contact=contact,
        message_type=kind,
        sent_at=sent_at,
        text=text if text is not None or kind != "text" else DEFAULT_TEXT,
        **parts,
    )
    reaction = data.reaction
    stamp = int(sent_at.timestamp())
    event_id = (
        deterministic_id(wamid, "reaction", reaction.emoji or "removed", stamp)
        if reaction
        else deterministic_id(wamid, "received")
    )
    return MessageReceivedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=event_id,
        time=sent_at,
    )


def an_outbox(workspace_id: str) -> list[dict[str, Any]]:
    """What a write stores in its document's outbox: one event (the store never reads it)."""
    return outbox_entries(topics.INBOX_EVENTS, [a_message_received(workspace_id=workspace_id)])


def a_sample(workspace_id: str, kind: str, **kw: Any) -> MessageReceivedEvent:
    parts, _ = SAMPLES[kind]
    return a_message_received(workspace_id=workspace_id, kind=kind, **{**parts, **kw})


def a_reaction(
    workspace_id: str, target_wamid: str, emoji: str | None, *, sent_at: datetime | None = None
) -> MessageReceivedEvent:
    """Meta reuses the reaction's wamid when the customer changes or removes it."""
    reaction = Reaction(message_id=target_wamid, emoji=emoji, removed=emoji is None)
    return a_message_received(
        workspace_id=workspace_id,
        kind="reaction",
        wamid=f"wamid.reaction-{target_wamid}",
        reaction=reaction,
        sent_at=sent_at,
    )


def a_referral() -> dict[str, Any]:
    return {
        "referral": Referral(source_type="ad", source_id="ad-77", headline="Promo -30%"),
        "context": MessageContext(forwarded=True),
    }


def accepted(workspace_id: str, key: str, idempotency_key: str, wamid: str) -> MessageAcceptedEvent:
    data = MessageAccepted(
        conversation_key=key,
        idempotency_key=idempotency_key,
        wamid=wamid,
        channel=Channel(phone_number_id=PHONE_NUMBER_ID),
        contact=ContactIdentity(wa_id=WA_ID),
        accepted_at=now(),
    )
    return MessageAcceptedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(workspace_id, idempotency_key, "accepted"),
    )


def a_status(
    workspace_id: str, key: str, wamid: str, status: str, at: datetime, **extra: Any
) -> StatusChangedEvent:
    data = StatusChanged(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id=PHONE_NUMBER_ID),
        contact=ContactIdentity(wa_id=WA_ID),
        status=status,
        status_at=at,
        **extra,
    )
    return StatusChangedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(wamid, "status", status, int(at.timestamp())),
        time=at,
    )


def failed(workspace_id: str, key: str, idempotency_key: str) -> MessageFailedEvent:
    data = MessageFailed(
        conversation_key=key,
        idempotency_key=idempotency_key,
        channel=Channel(phone_number_id=PHONE_NUMBER_ID),
        reason="meta_error",
        error=MetaError(code=131026, title="Message undeliverable"),
        retryable=True,
        attempts=1,
        failed_at=now(),
    )
    return MessageFailedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace_id,
        subject=key,
        data=data,
        id=deterministic_id(workspace_id, idempotency_key, "failed"),
    )


def a_template(name: str = "order_confirmation", language: str = "fr", **kw: Any) -> Template:
    sections = kw.pop("sections", None) or [
        TemplateSection(type="HEADER", format="IMAGE"),
        TemplateSection(type="BODY", text="Bonjour {{1}}, votre commande {{2}} est prête."),
    ]
    return Template(
        id=random_ref("tpl"),
        name=name,
        language=language,
        status=kw.pop("status", "APPROVED"),
        category="UTILITY",
        sections=sections,
        **kw,
    )


def templates_synced(workspace_id: str, *templates: Template) -> TemplatesSyncedEvent:
    data = TemplatesSynced(
        channel=Channel(phone_number_id=PHONE_NUMBER_ID),
        templates=list(templates),
        synced_at=now(),
        reason="on_demand",
    )
    return TemplatesSyncedEvent.create(
        source="hanout/ingest", workspaceid=workspace_id, subject=PHONE_NUMBER_ID, data=data
    )


def contact_matched(workspace_id: str, key: str, **fields: Any) -> ContactMatchedEvent:
    """As customers publishes it: with the conversation's business number."""
    fields.setdefault("phone_number_id", key.split(":")[1])
    data = ContactMatched(conversation_key=key, **fields)
    return ContactMatchedEvent.create(
        source="hanout/customers", workspaceid=workspace_id, subject=key, data=data
    )


@asynccontextmanager
async def real_store(mongodb_url: str, prefix: str) -> AsyncIterator[Store]:
    """A Store on a scratch database of the real store, indexed."""
    async with scratch_database(mongodb_url, prefix) as db:
        store = Store(db)
        await store.ensure_indexes()
        yield store
