"""How conversation documents are written and queried: update documents and list filters."""

import re
from datetime import UTC, datetime

from inbox.model import ConversationRow, InboundChange
from inbox.search import ListQuery, phone_keys, search_names
from inbox.store.documents import Document

# How many recent event ids a conversation remembers to apply each event once: a redelivery
# replays at most the uncommitted tail of one partition, never this many events of one contact.
APPLIED_MEMORY = 200
LIST_FIELDS = {"applied": 0, "outbox": 0, "search_names": 0, "search_digits": 0}


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
        "$addToSet": {
            "search_names": {"$each": names},
            "search_digits": {"$each": phone_keys(change.phone_e164)},
        },
        "$push": {"applied": {"$each": [change.event_id], "$slice": -APPLIED_MEMORY}},
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
    return update


def not_newer_than(change: InboundChange) -> Document:
    at = change.at
    return {"$or": [{"last_activity_at": {"$lte": at}}, {"last_activity_at": {"$exists": False}}]}


def listed(workspace_id: str, query: ListQuery) -> Document:
    where: Document = {"workspace_id": workspace_id, "last_activity_at": {"$exists": True}}
    if query.phone_number_id:
        where["phone_number_id"] = query.phone_number_id
    if query.search and query.search.text:
        where["search_names"] = {"$regex": re.escape(query.search.text)}
    elif query.search and query.search.digits:
        where["search_digits"] = {"$regex": re.escape(query.search.digits)}
    return where


def filtered(query: ListQuery) -> Document:
    if query.filter == "unread":
        return {"unread_count": {"$gt": 0}}
    if query.filter == "mine":
        return {"assignee.id": query.agent_id}
    if query.filter == "no_reply":
        return {"awaiting_reply": True}
    return {}


def row_of(doc: Document) -> ConversationRow:
    fields = {key: value for key, value in doc.items() if key in ConversationRow.model_fields}
    return ConversationRow(id=doc["_id"], **fields)
