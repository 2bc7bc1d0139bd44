"""The common parts of a Meta message or status item as our values (pure, tolerant of drift).

Only the ids and the timestamp are required: any other field of the wrong type is dropped rather
than losing the whole message, because Meta changes shapes without versioning.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hanout_shared.contracts.whatsapp import (
    ContactIdentity,
    MessageContext,
    MetaError,
    Referral,
    ReferredProduct,
)
from hanout_shared.platform.phones import wa_id_e164

Fields = dict[str, Any]
NOT_DIGITS = re.compile(r"[^0-9]+")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def pick(obj: dict[str, Any], *names: str) -> dict[str, str | None]:
    return {name: text_or_none(obj.get(name)) for name in names}


def required_text(item: Any, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{key}` must be a non-empty string")
    return value


def digits(value: Any) -> str | None:
    """Meta's user ids are digits; one of its tables shows `+`, so strip anything else."""
    if not isinstance(value, str):
        return None
    return NOT_DIGITS.sub("", value) or None


def epoch(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError("`timestamp` must be epoch seconds")


def when(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _code(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def errors(value: Any) -> list[MetaError]:
    return [
        MetaError(
            code=_code(item.get("code")),
            details=text_or_none(as_dict(item.get("error_data")).get("details")),
            **pick(item, "title", "message", "href"),
        )
        for item in as_list(value)
        if isinstance(item, dict)
    ]


def _identity(
    wa_id: str | None, user_id: str | None, parent: str | None, contacts: list[dict[str, Any]]
) -> ContactIdentity:
    def matches(contact: dict[str, Any]) -> bool:
        same_wa = wa_id is not None and digits(contact.get("wa_id")) == wa_id
        return same_wa or (user_id is not None and contact.get("user_id") == user_id)

    found = next((c for c in contacts if matches(c)), {})
    profile = as_dict(found.get("profile"))
    known_wa_id = wa_id or digits(found.get("wa_id"))
    return ContactIdentity(
        wa_id=known_wa_id,
        phone_e164=wa_id_e164(known_wa_id),
        user_id=user_id or text_or_none(found.get("user_id")),
        username=text_or_none(profile.get("username")),
        profile_name=text_or_none(profile.get("name")),
        parent_user_id=parent or text_or_none(found.get("parent_user_id")),
    )


def sender(item: Any, contacts: list[dict[str, Any]]) -> ContactIdentity:
    """Match `from` ↔ `wa_id` and `from_user_id` ↔ `user_id`, never by array position."""
    wa_id, user_id = digits(item.get("from")), text_or_none(item.get("from_user_id"))
    return _identity(wa_id, user_id, text_or_none(item.get("from_parent_user_id")), contacts)


def recipient(item: Any, contacts: list[dict[str, Any]]) -> ContactIdentity:
    wa_id, user_id = digits(item.get("recipient_id")), text_or_none(item.get("recipient_user_id"))
    return _identity(wa_id, user_id, text_or_none(item.get("recipient_parent_user_id")), contacts)


def context(value: Any) -> MessageContext | None:
    obj = as_dict(value)
    found = MessageContext(
        replied_to_wamid=text_or_none(obj.get("id")),
        replied_to_from=text_or_none(obj.get("from")),
        forwarded=obj.get("forwarded") is True,
        frequently_forwarded=obj.get("frequently_forwarded") is True,
    )
    return found if found != MessageContext() else None


def referred_product(value: Any) -> ReferredProduct | None:
    obj = as_dict(as_dict(value).get("referred_product"))
    return ReferredProduct(**pick(obj, "catalog_id", "product_retailer_id")) if obj else None


def referral(value: Any) -> Referral | None:
    obj = as_dict(value)
    if not obj:
        return None
    names = ("source_type", "source_id", "source_url", "headline", "body", "media_type")
    urls = ("image_url", "video_url", "thumbnail_url", "ctwa_clid")
    welcome = text_or_none(as_dict(obj.get("welcome_message")).get("text"))
    return Referral(**pick(obj, *names, *urls), welcome_message=welcome)


def conversation(value: Any) -> Fields:
    obj = as_dict(value)
    expires = obj.get("expiration_timestamp")
    try:
        expires_at = when(epoch(expires)) if expires is not None else None
    except (ValueError, OverflowError, OSError):
        expires_at = None
    return {
        "conversation_id": text_or_none(obj.get("id")),
        "conversation_origin": text_or_none(as_dict(obj.get("origin")).get("type")),
        "conversation_expires_at": expires_at,
    }


def phone_number_ids(payload: Mapping[str, Any]) -> list[str]:
    """The business numbers a body names, in order (to look them up before translating)."""
    found: list[str] = []
    for entry in as_list(payload.get("entry")):
        for change in as_list(as_dict(entry).get("changes")):
            value = as_dict(as_dict(change).get("value"))
            pnid = as_dict(value.get("metadata")).get("phone_number_id")
            if isinstance(pnid, str) and pnid not in found:
                found.append(pnid)
    return found


def routing_key(payload: Mapping[str, Any]) -> str:
    """Key of the raw record: its first business number, else its first WABA id."""
    if numbers := phone_number_ids(payload):
        return numbers[0]
    entries = as_list(payload.get("entry"))
    waba = as_dict(entries[0]).get("id") if entries else None
    return waba if isinstance(waba, str) else "unknown"
