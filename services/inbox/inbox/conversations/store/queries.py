"""How conversation documents are written: their update documents, and what they make."""

from datetime import UTC, datetime

from inbox.conversations.model import ConversationRow, InboundChange
from inbox.conversations.search import phone_keys, search_names
from inbox.documents import Document

# How many recent event ids a conversation remembers to apply each event once: a redelivery
# replays at most the uncommitted tail of one partition, never this many events of one contact.
APPLIED_MEMORY = 200
# Set by a write whose list counts are not moved yet: a batch's receipt (see `batched`), or the
# time of any other write (see `uncounted_mark`), which the counts' reconciler repairs.
UNCOUNTED = "uncounted"
LIST_FIELDS = {"applied": 0, "outbox": 0, "outbox_lease": 0, "search_names": 0, "search_digits": 0}


def uncounted_mark() -> datetime:
    """Now, to the millisecond the store keeps: the writer clears the mark it set, and only it."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def inbound_update(change: InboundChange) -> Document:
    at = change.at
    contact = change.contact.model_dump(exclude_none=True)
    names = search_names(change.contact.profile_name, change.contact.username)
    update: Document = {
        "$setOnInsert": {
            "workspace_id": change.workspace_id,
            "conversation_key": change.conversation_key,
            "phone_number_id": change.phone_number_id,
            "created_at": datetime.now(UTC),
        },
        "$set": {f"contact.{key}": value for key, value in contact.items()},
        "$push": {"applied": {"$each": [change.event_id], "$slice": -APPLIED_MEMORY}},
        "$addToSet": {
            "search_names": {"$each": names},
            "search_digits": {"$each": phone_keys(change.phone_e164)},
            "lists": {"$each": _joined(change)},
        },
    }
    if change.display_phone_number:
        update["$set"]["display_phone_number"] = change.display_phone_number
    if change.phone_e164:
        update["$set"]["phone_e164"] = change.phone_e164
    maxima = {"last_activity_at": at} if change.last is not None else {}
    if change.opens_window:
        maxima["last_inbound_at"] = at
    if maxima:
        update["$max"] = maxima
    if change.counts_unread:
        update["$inc"] = {"unread_count": 1}
    return update


def newest_update(change: InboundChange) -> Document:
    """The same, for a message newer than anything in its conversation (the usual case)."""
    update = inbound_update(change)
    if change.last is not None:
        update["$set"]["last_message"] = change.last.model_dump()
    if change.opens_window:
        update["$set"]["last_inbound_wamid"] = change.wamid
    if change.awaits_reply:
        update["$set"]["awaiting_reply"] = True  # newer than any reply
        update["$addToSet"]["lists"]["$each"].append("no_reply")
    return update


def _joined(change: InboundChange) -> list[str]:
    """The lists an inbound message puts its conversation in (see `listing` beside this module)."""
    return (["all"] if change.last is not None else []) + (
        ["unread"] if change.counts_unread else []
    )


def applied(before: Document | None, change: InboundChange, update: Document) -> Document:
    """The document after `update`, from the one before it: the store is not read again."""
    doc = dict(before) if before else {"_id": change.conversation_id} | update["$setOnInsert"]
    for path, value in update["$set"].items():
        head, _, tail = path.partition(".")
        doc[head] = {**(doc.get(head) or {}), tail: value} if tail else value
    for field, value in update.get("$max", {}).items():
        doc[field] = value if doc.get(field) is None else max(doc[field], value)
    for field, step in update.get("$inc", {}).items():
        doc[field] = (doc.get(field) or 0) + step
    for field, values in update["$addToSet"].items():
        kept = list(doc.get(field) or [])
        doc[field] = kept + [
            v for i, v in enumerate(values["$each"]) if v not in kept + values["$each"][:i]
        ]
    for field, values in update["$push"].items():
        doc[field] = (list(doc.get(field) or []) + values["$each"])[values.get("$slice", 0) :]
    return doc


def not_newer_than(change: InboundChange) -> Document:
    # `$not` rather than an `$or` with `$exists`: SecantusDB answers an `$or` beside `_id` by
    # scanning the whole collection (seconds at 100k conversations), `$not` by the `_id` lookup.
    return {"last_activity_at": {"$not": {"$gt": change.at}}}


def row_of(doc: Document) -> ConversationRow:
    fields = {key: value for key, value in doc.items() if key in ConversationRow.model_fields}
    return ConversationRow(id=doc["_id"], **fields)
