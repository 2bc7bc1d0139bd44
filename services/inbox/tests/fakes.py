"""A dict-backed stand-in for the inbox store, with the same classes and method names."""

import re
from datetime import timedelta
from typing import Any

from inbox.conversations.model import (
    Assignment,
    ContactMatch,
    ConversationRow,
    FilterCounts,
    InboundChange,
    InboundResult,
    LastMessage,
    ReadMark,
    reopens,
)
from inbox.conversations.search import ListQuery, phone_keys, search_names

from .fake_channels import FakeChannels, FakeTemplates
from .fake_messages import FakeMessages, FakeOutbox, FakeParked, FakeReactions
from .fake_team import FakeActivity, FakeAgents, FakeLibrary, FakeNotes

Doc = dict[str, Any]


class FakeConversations:
    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.outbox = FakeOutbox(self.docs, "conversations")

    async def ensure_indexes(self) -> None:
        return None

    async def get(self, workspace_id: str, conversation_id: str) -> ConversationRow | None:
        doc = self.docs.get(conversation_id)
        return _row(doc) if doc and doc["workspace_id"] == workspace_id else None

    def _doc(self, conversation_id: str, workspace_id: str, key: str, pnid: str | None) -> Doc:
        fresh = {
            "id": conversation_id,
            "workspace_id": workspace_id,
            "conversation_key": key,
            "phone_number_id": pnid,
        }
        return self.docs.setdefault(conversation_id, fresh | {"applied": [], "names": set()})

    async def record_inbound(self, change: InboundChange) -> InboundResult:
        found = self.docs.get(change.conversation_id)
        if found and change.event_id in found["applied"]:
            row = _row(found)
            opened = row.opened_by == change.event_id
            return InboundResult(row=row, opened=opened, reopened=opened and row.reopened)
        previous = dict(found) if found else {}
        doc = self._doc(
            change.conversation_id,
            change.workspace_id,
            change.conversation_key,
            change.phone_number_id,
        )
        doc["applied"].append(change.event_id)
        doc["contact"] = doc.get("contact", {}) | change.contact.model_dump(exclude_none=True)
        doc["names"] |= set(search_names(change.contact.profile_name, change.contact.username))
        doc["digits"] = set(doc.get("digits", set())) | set(phone_keys(change.phone_e164))
        for field in ("display_phone_number", "phone_e164"):
            if value := getattr(change, field):
                doc[field] = value
        at = change.at
        if change.counts_unread:
            doc["unread_count"] = doc.get("unread_count", 0) + 1
        opened = previous.get("last_activity_at") is None
        reopened = (
            not opened and change.opens_window and reopens(previous.get("last_inbound_at"), at)
        )
        if opened or reopened:
            doc |= {"opened_at": at, "opened_by": change.event_id, "reopened": reopened}
        if change.last is not None and at >= doc.get("last_activity_at", at):
            doc |= {"last_activity_at": at, "last_message": change.last.model_dump()}
        if change.opens_window and at >= doc.get("last_inbound_at", at):
            doc |= {"last_inbound_at": at, "last_inbound_wamid": change.wamid}
        if change.awaits_reply and (
            doc.get("last_outbound_at") is None or doc["last_outbound_at"] < at
        ):
            doc["awaiting_reply"] = True
        return InboundResult(row=_row(doc), opened=opened or reopened, reopened=reopened)

    async def record_inbound_many(self, changes: list[InboundChange]) -> list[InboundResult]:
        return [await self.record_inbound(change) for change in changes]

    async def record_outbound(
        self, workspace_id: str, conversation_id: str, last: LastMessage
    ) -> ConversationRow | None:
        doc = self.docs.get(conversation_id)
        if doc is None or doc["workspace_id"] != workspace_id:
            return None
        doc["last_outbound_at"] = max(doc.get("last_outbound_at", last.at), last.at)
        doc["awaiting_reply"] = False
        if last.at >= doc.get("last_activity_at", last.at):
            doc |= {"last_activity_at": last.at, "last_message": last.model_dump()}
        return _row(doc)

    async def mark_read(
        self, workspace_id: str, conversation_id: str, read: ReadMark, outbox: list[Doc]
    ) -> ConversationRow | None:
        doc = self.docs.get(conversation_id)
        if doc is None or doc["workspace_id"] != workspace_id:
            return None
        doc |= {"unread_count": 0, "last_read_at": read.at, "last_read_by": read.by.model_dump()}
        if read.receipt_wamid:
            doc["read_receipt_wamid"] = read.receipt_wamid
        doc.setdefault("outbox", []).extend(outbox)
        return _row(doc)

    async def assign(
        self,
        workspace_id: str,
        expected_id: str | None,
        change: Assignment,
        outbox: list[Doc],
    ) -> ConversationRow | None:
        doc = self.docs.get(change.conversation_id)
        if doc is None or doc["workspace_id"] != workspace_id:
            return None
        if (doc.get("assignee") or {}).get("id") != expected_id:
            return None
        doc |= {
            "assignee": change.assignee.model_dump() if change.assignee else None,
            "assigned_at": change.at,
            "assigned_by": change.by.model_dump(),
        }
        doc.setdefault("outbox", []).extend(outbox)
        return _row(doc)

    async def apply_match(self, match: ContactMatch) -> ConversationRow | None:
        doc = self.docs.get(match.conversation_id)
        kept = (doc or {}).get("customer")
        if kept and kept["matched_at"] > match.customer.matched_at:
            return None
        if doc is None and match.phone_number_id is None:
            return None
        doc = self._doc(
            match.conversation_id, match.workspace_id, match.conversation_key, match.phone_number_id
        )
        doc["customer"] = match.customer.model_dump()
        doc["names"] |= set(match.names)
        doc["digits"] = set(doc.get("digits", set())) | set(phone_keys(match.customer_phone_e164))
        return _row(doc)

    def _customers(self, workspace_id: str, ids: list[str]) -> list[Doc]:
        return [
            doc
            for doc in self.docs.values()
            if doc["workspace_id"] == workspace_id
            and (doc.get("customer") or {}).get("customer_id") in ids
        ]

    async def rename_customer(
        self, workspace_id: str, customer_id: str, name: str | None, version: int
    ) -> int:
        found = [
            d
            for d in self._customers(workspace_id, [customer_id])
            if d["customer"]["version"] < version
        ]
        for doc in found:
            doc["customer"] |= {"name": name, "version": version}
            doc["names"] |= set(search_names(name))
        return len(found)

    async def repoint_customer(
        self, workspace_id: str, absorbed_ids: list[str], survivor_id: str, name: str | None
    ) -> int:
        found = self._customers(workspace_id, absorbed_ids)
        for doc in found:
            doc["customer"] |= {
                "customer_id": survivor_id,
                "outcome": "known",
                "candidate_ids": [],
                "name": name,
            }
            doc["names"] |= set(search_names(name))
        return len(found)

    def _listed(self, workspace_id: str, query: ListQuery) -> list[Doc]:
        found = []
        for doc in self.docs.values():
            if doc["workspace_id"] != workspace_id or doc.get("last_activity_at") is None:
                continue
            if query.phone_number_id and doc["phone_number_id"] != query.phone_number_id:
                continue
            if not _matches(doc, query):
                continue
            found.append(doc)
        return found

    async def page(self, workspace_id: str, query: ListQuery) -> list[ConversationRow]:
        rows = [d for d in self._listed(workspace_id, query) if _FILTERS[query.filter](d, query)]
        rows.sort(key=lambda d: (d["last_activity_at"], d["id"]), reverse=True)
        if query.after is not None:
            after = (query.after.at, query.after.id)
            rows = [d for d in rows if (d["last_activity_at"], d["id"]) < after]
        return [_row(d) for d in rows[: query.limit]]

    async def recount(self, workspace_id: str) -> None:
        return None  # counted from the documents at every read

    async def reconcile_counts(self, grace: timedelta) -> list[str]:
        return []  # nothing to reconcile: counted from the documents at every read

    async def counts_of(self, workspace_id: str, query: ListQuery) -> FilterCounts:
        rows = self._listed(workspace_id, query)
        return FilterCounts(
            **{name: sum(1 for d in rows if test(d, query)) for name, test in _FILTERS.items()}
        )


def _matches(doc: Doc, query: ListQuery) -> bool:
    wanted = query.search
    if wanted is None:
        return True
    values, fragment = (
        (doc["names"], wanted.text) if wanted.text else (doc.get("digits", set()), wanted.digits)
    )
    return any(re.search(re.escape(fragment or ""), value) for value in values)


_FILTERS = {
    "all": lambda doc, q: True,
    "unread": lambda doc, q: doc.get("unread_count", 0) > 0,
    "mine": lambda doc, q: (doc.get("assignee") or {}).get("id") == q.agent_id,
    "no_reply": lambda doc, q: doc.get("awaiting_reply") is True,
}


def _row(doc: Doc) -> ConversationRow:
    return ConversationRow.model_validate(
        {k: v for k, v in doc.items() if k in ConversationRow.model_fields}
    )


class FakeStore:
    def __init__(self) -> None:
        self.conversations = FakeConversations()
        self.messages = FakeMessages()
        self.reactions = FakeReactions()
        self.parked = FakeParked()
        self.channels = FakeChannels()
        self.templates = FakeTemplates()
        self.notes = FakeNotes()
        self.activity = FakeActivity()
        self.library = FakeLibrary()
        self.agents = FakeAgents()

    async def ensure_indexes(self) -> None:
        return None
