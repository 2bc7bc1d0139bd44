"""The typed content of each WhatsApp message type, as our value objects (pure).

A type we do not know becomes `unknown` with its raw item: Meta adds types without versioning.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from hanout_shared.contracts.whatsapp import (
    CatalogOrder,
    Location,
    Media,
    OrderItem,
    Reaction,
    Reply,
    SharedContact,
    SharedPhone,
    SystemNotice,
)
from ingest.webhooks.model.parts import as_dict, as_list, digits, flag, pick, text_or_none

Fields = dict[str, Any]
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


def _text(obj: Any) -> Fields:
    return {"text": text_or_none(as_dict(obj).get("body"))}


def _media(obj: Any) -> Fields:
    body = as_dict(obj)
    names = ("id", "mime_type", "sha256", "filename", "caption", "url")
    media = Media(
        **pick(body, *names), voice=flag(body.get("voice")), animated=flag(body.get("animated"))
    )
    return {"media": media, "text": media.caption}


def _number(value: Any) -> float | None:
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if valid else None


def _location(obj: Any) -> Fields:
    body = as_dict(obj)
    lat, lng = _number(body.get("latitude")), _number(body.get("longitude"))
    if lat is None or lng is None:
        return {}
    place = Location(latitude=lat, longitude=lng, **pick(body, "name", "address", "url"))
    return {"location": place, "text": place.name}


def _shared_contact(card: dict[str, Any]) -> SharedContact:
    name = as_dict(card.get("name"))
    phones = [
        SharedPhone(**pick(p, "phone", "wa_id", "type"))
        for p in as_list(card.get("phones"))
        if isinstance(p, dict)
    ]
    emails = [as_dict(e).get("email") for e in as_list(card.get("emails"))]
    urls = [as_dict(u).get("url") for u in as_list(card.get("urls"))]
    return SharedContact(
        **pick(name, "formatted_name", "first_name", "last_name"),
        phones=phones,
        emails=[e for e in emails if isinstance(e, str)],
        company=text_or_none(as_dict(card.get("org")).get("company")),
        urls=[u for u in urls if isinstance(u, str)],
        **pick(card, "birthday", "vcard"),
    )


def _contacts(obj: Any) -> Fields:
    cards = [_shared_contact(c) for c in as_list(obj) if isinstance(c, dict)]
    return {"contacts": cards, "text": cards[0].formatted_name if cards else None}


def _interactive(obj: Any) -> Fields:
    body = as_dict(obj)
    kind = text_or_none(body.get("type"))
    answer = as_dict(body.get(kind)) if kind else {}
    if kind is None:
        return {}
    reply = Reply(
        kind=kind,
        **pick(answer, "id", "description", "response_json"),
        title=text_or_none(answer.get("title")) or text_or_none(answer.get("body")),
        flow_name=text_or_none(answer.get("name")),
    )
    return {"reply": reply, "text": reply.title}


def _button(obj: Any) -> Fields:
    body = as_dict(obj)
    reply = Reply(
        kind="template_button",
        id=text_or_none(body.get("payload")),
        title=text_or_none(body.get("text")),
    )
    return {"reply": reply, "text": reply.title}


def _reaction(obj: Any) -> Fields:
    body = as_dict(obj)
    target = text_or_none(body.get("message_id"))
    if target is None:
        return {}
    emoji = text_or_none(body.get("emoji"))  # omitted (or "" in older payloads) = removed
    return {"reaction": Reaction(message_id=target, emoji=emoji, removed=emoji is None)}


def _order_item(item: dict[str, Any]) -> OrderItem | None:
    price, quantity = item.get("item_price"), item.get("quantity")
    try:
        # str() first: the JSON number's shortest repr, so 12.5 stays 12.5 and not 12.4999…
        amount = Decimal(str(price)) if _number(price) is not None else None
    except InvalidOperation:
        amount = None
    sku, currency = text_or_none(item.get("product_retailer_id")), item.get("currency")
    if amount is None or not amount.is_finite() or sku is None or not isinstance(currency, str):
        return None
    count = quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None
    if count is None:
        return None
    return OrderItem(product_retailer_id=sku, quantity=count, item_price=amount, currency=currency)


def _order(obj: Any) -> Fields:
    body = as_dict(obj)
    items = [_order_item(i) for i in as_list(body.get("product_items")) if isinstance(i, dict)]
    order = CatalogOrder(
        **pick(body, "catalog_id", "text"), items=[i for i in items if i is not None]
    )
    return {"order": order, "text": order.text}


def _system(obj: Any) -> Fields:
    body = as_dict(obj)
    notice = SystemNotice(**pick(body, "body", "type"), new_wa_id=digits(body.get("wa_id")))
    return {"system": notice, "text": notice.body}


def _unsupported(obj: Any) -> Fields:
    return {"original_type": text_or_none(as_dict(obj).get("type"))}


def _revoke(obj: Any) -> Fields:
    return {"revoked_wamid": text_or_none(as_dict(obj).get("original_message_id"))}


PARSERS: dict[str, Callable[[Any], Fields]] = {
    "text": _text,
    **dict.fromkeys(MEDIA_KINDS, _media),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
    "request_welcome": lambda _: {},
    "revoke": _revoke,
}


def content(item: Any) -> Fields:
    """The typed part of a message; a type we do not know keeps the raw item, never dropped."""
    kind = item.get("type")
    parser = PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return {"message_type": "unknown", "original_type": text_or_none(kind), "raw": item}
    return {"message_type": kind, **parser(item.get(kind))}
