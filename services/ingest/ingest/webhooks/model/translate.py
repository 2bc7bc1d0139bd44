"""Meta's webhook JSON turned into our events, with pure functions (no I/O)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hanout_shared.contracts import CloudEvent, deterministic_id, topics
from hanout_shared.contracts.whatsapp import (
    Channel,
    ChannelErrorReported,
    ChannelErrorReportedEvent,
    ContactIdentity,
    DeadLettered,
    DeadLetteredEvent,
    MessageReceived,
    MessageReceivedEvent,
    MetaError,
    Pricing,
    StatusChanged,
    StatusChangedEvent,
    TemplatesSyncRequested,
    TemplatesSyncRequestedEvent,
    conversation_key,
)
from ingest.channels.model import ChannelRecord
from ingest.events import SOURCE, Outgoing, dead_letter
from ingest.webhooks.model import parts
from ingest.webhooks.model.content import content

TEMPLATE_FIELDS = frozenset(
    {"message_template_status_update", "message_template_quality_update"}
    | {"template_category_update"}
)
# A malformed item is dead-lettered rather than failing the POST (Meta would retry it for days).
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError)
Channels = Mapping[str, ChannelRecord]


@dataclass(frozen=True)
class Delivery:
    """One POST: what makes its derived ids reproducible on redelivery and on replay."""

    body_sha256: str
    received_at: datetime
    app_id: str | None = None


@dataclass
class Translation:
    outgoing: list[Outgoing] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)

    def dead_letters(self) -> list[DeadLettered]:
        return [o.event.data for o in self.outgoing if isinstance(o.event, DeadLetteredEvent)]


@dataclass(frozen=True)
class Scope:
    """One entry × change of a POST and, once routed, its channel and the senders' profiles."""

    delivery: Delivery
    entry: int
    change: int
    ref: ChannelRecord | None = None
    channel: Channel | None = None
    contacts: tuple[dict[str, Any], ...] = ()
    errors: tuple[MetaError, ...] = ()

    def id(self, *names: str | int) -> str:
        return deterministic_id(self.delivery.body_sha256, self.entry, self.change, *names)

    def dead(self, reason: str, raw: Any, *names: str | int, **data: Any) -> Outgoing:
        if self.ref is not None:
            data.setdefault("phone_number_id", self.ref.phone_number_id)
        workspace = self.ref.workspace_id if self.ref else None
        event_id = self.id(reason, *names)
        return dead_letter(self.delivery.received_at, reason, event_id, workspace, raw=raw, **data)

    def event(self, kind: type[CloudEvent], data: Any, event_id: str, when: datetime) -> Any:
        assert self.ref is not None, "only a routed change makes events"
        subject = getattr(data, "conversation_key", None)
        return kind.create(
            source=SOURCE,
            workspaceid=self.ref.workspace_id,
            subject=subject or f"{self.ref.workspace_id}:{self.ref.phone_number_id}",
            data=data,
            id=event_id,
            time=when,
        )


def translate(payload: Mapping[str, Any], delivery: Delivery, channels: Channels) -> Translation:
    """Every entry × change × message/status/error of a webhook body, as events or dead letters."""
    result = Translation()
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raw = dict(payload)
        result.outgoing.append(Scope(delivery, -1, -1).dead("malformed_body", raw))
        return result
    for e, entry in enumerate(entries):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            result.outgoing.append(Scope(delivery, e, -1).dead("malformed_entry", entry))
            continue
        for c, change in enumerate(changes):
            _change(result, Scope(delivery, e, c), entry, change, channels)
    return result


def _change(
    result: Translation, scope: Scope, entry: dict[str, Any], change: Any, channels: Channels
) -> None:
    name = change.get("field") if isinstance(change, dict) else None
    value = change.get("value") if isinstance(change, dict) else None
    if not isinstance(value, dict) or not isinstance(name, str):
        result.outgoing.append(scope.dead("malformed_change", change))
    elif name == "messages":
        result.outgoing.extend(_messages_change(scope, entry, value, channels))
    elif name in TEMPLATE_FIELDS:
        result.outgoing.extend(_template_change(scope, entry, value, channels))
    else:
        result.ignored_fields.append(name)


def _route(scope: Scope, value: dict[str, Any], channels: Channels) -> Scope | Outgoing:
    metadata = parts.as_dict(value.get("metadata"))
    pnid = metadata.get("phone_number_id")
    ref = channels.get(pnid) if isinstance(pnid, str) else None
    if ref is None:
        reason = "unknown_channel" if isinstance(pnid, str) else "malformed_change"
        return scope.dead(reason, value, phone_number_id=pnid if isinstance(pnid, str) else None)
    if not ref.enabled or ref.meta_app_id != scope.delivery.app_id:
        reason = "channel_disabled" if not ref.enabled else "app_mismatch"
        return replace(scope, ref=ref).dead(reason, value)
    return replace(scope, ref=ref)


def _messages_change(
    scope: Scope, entry: dict[str, Any], value: dict[str, Any], channels: Channels
) -> list[Outgoing]:
    routed = _route(scope, value, channels)
    if isinstance(routed, Outgoing):
        return [routed]
    assert routed.ref is not None
    channel = Channel(
        phone_number_id=routed.ref.phone_number_id,
        display_phone_number=parts.text_or_none(value["metadata"].get("display_phone_number"))
        or routed.ref.display_phone_number,
        waba_id=parts.text_or_none(entry.get("id")) or routed.ref.waba_id,
    )
    contacts = tuple(c for c in parts.as_list(value.get("contacts")) if isinstance(c, dict))
    errors = tuple(parts.errors(value.get("errors")))
    routed = replace(routed, channel=channel, contacts=contacts, errors=errors)
    return [
        _guarded(routed, key, i, topic, item, build)
        for key, topic, build in ITEMS
        for i, item in enumerate(parts.as_list(value.get(key)))
    ]


Builder = Callable[[Scope, int, Any], Outgoing]


def _guarded(scope: Scope, key: str, index: int, topic: str, item: Any, build: Builder) -> Outgoing:
    try:
        return build(scope, index, item)
    except MALFORMED as exc:
        detail = str(exc)[:500]
        return scope.dead("malformed_item", item, key, index, detail=detail, original_topic=topic)


def _key(scope: Scope, contact: ContactIdentity) -> str:
    if not contact.contact_id() or scope.ref is None:
        raise ValueError("the item names no wa_id and no user_id")
    return conversation_key(scope.ref.workspace_id, scope.ref.phone_number_id, contact.contact_id())


def _message(scope: Scope, _: int, item: Any) -> Outgoing:
    contact = parts.sender(item, list(scope.contacts))
    wamid, stamp = parts.required_text(item, "id"), parts.epoch(item.get("timestamp"))
    data = MessageReceived(
        conversation_key=_key(scope, contact),
        wamid=wamid,
        channel=scope.channel,
        contact=contact,
        sent_at=parts.when(stamp),
        context=parts.context(item.get("context")),
        referral=parts.referral(item.get("referral")),
        referred_product=parts.referred_product(item.get("context")),
        errors=[*parts.errors(item.get("errors")), *scope.errors],
        **content(item),
    )
    if (reaction := data.reaction) is not None:  # Meta reuses the wamid to remove a reaction
        event_id = deterministic_id(wamid, "reaction", reaction.emoji or "removed", stamp)
    else:
        event_id = deterministic_id(wamid, "received")
    event = scope.event(MessageReceivedEvent, data, event_id, data.sent_at)
    return Outgoing(topics.WHATSAPP_INBOUND, event)


def _status(scope: Scope, _: int, item: Any) -> Outgoing:
    contact = parts.recipient(item, list(scope.contacts))
    wamid, status = parts.required_text(item, "id"), parts.required_text(item, "status")
    stamp, pricing = parts.epoch(item.get("timestamp")), item.get("pricing")
    data = StatusChanged(
        conversation_key=_key(scope, contact),
        wamid=wamid,
        channel=scope.channel,
        contact=contact,
        status=status,
        status_at=parts.when(stamp),
        errors=parts.errors(item.get("errors")),
        pricing=Pricing.model_validate(pricing) if isinstance(pricing, dict) else None,
        biz_opaque_callback_data=parts.text_or_none(item.get("biz_opaque_callback_data")),
        **parts.conversation(item.get("conversation")),
    )
    event_id = deterministic_id(wamid, "status", status, stamp)
    event = scope.event(StatusChangedEvent, data, event_id, data.status_at)
    return Outgoing(topics.WHATSAPP_STATUS, event)


def _value_error(scope: Scope, index: int, item: Any) -> Outgoing:
    [error] = parts.errors([item])
    at, event_id = scope.delivery.received_at, scope.id("value_error", index)
    data = ChannelErrorReported(channel=scope.channel, error=error, reported_at=at)
    event = scope.event(ChannelErrorReportedEvent, data, event_id, at)
    return Outgoing(topics.WHATSAPP_STATUS, event)


ITEMS: tuple[tuple[str, str, Builder], ...] = (
    ("messages", topics.WHATSAPP_INBOUND, _message),
    ("statuses", topics.WHATSAPP_STATUS, _status),
    ("errors", topics.WHATSAPP_STATUS, _value_error),
)


def _template_change(
    scope: Scope, entry: dict[str, Any], value: dict[str, Any], channels: Channels
) -> list[Outgoing]:
    """A template changed on a WABA: ask for a sync of each of its channels (a durable command)."""
    waba_id, app_id, at = entry.get("id"), scope.delivery.app_id, scope.delivery.received_at
    matching = [
        ref
        for ref in channels.values()
        if ref.enabled and ref.waba_id == waba_id and ref.meta_app_id == app_id
    ]
    if not matching:
        return [scope.dead("unknown_channel", value)]
    out = []
    for ref in matching:
        request = TemplatesSyncRequested(
            phone_number_id=ref.phone_number_id, reason="template_status_webhook"
        )
        routed = replace(scope, ref=ref)
        event_id = scope.id("templates", ref.phone_number_id)
        event = routed.event(TemplatesSyncRequestedEvent, request, event_id, at)
        out.append(Outgoing(topics.WHATSAPP_OUTBOUND, event))
    return out
