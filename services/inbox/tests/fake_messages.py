"""Dict-backed stand-ins for the messages, reactions, parked statuses and outboxes."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inbox.conversations.messages import (
    FAILED,
    RANK,
    Failure,
    Message,
    ReactionView,
    Send,
    StatusWrite,
    Tick,
    status_name,
)
from inbox.values import Cursor, to_ms

Doc = dict[str, Any]


class FakeOutbox:
    """The platform's `Outbox` over a fake collection's documents (`doc["outbox"]`)."""

    def __init__(self, docs: dict[str, Doc], name: str) -> None:
        self.docs, self.name = docs, name
        self.leases: dict[str, datetime] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def pending(self, doc_id: str) -> list[Doc]:
        return list(self.docs.get(doc_id, {}).get("outbox", []))

    async def clear(self, doc_id: str, entries: Sequence[Doc]) -> None:
        doc = self.docs[doc_id]
        doc["outbox"] = [entry for entry in doc.get("outbox", []) if entry not in entries]

    async def stale(self, older_than: datetime, limit: int) -> list[str]:
        found = [
            doc_id
            for doc_id, doc in self.docs.items()
            if any(entry["at"] < older_than for entry in doc.get("outbox", []))
        ]
        return found[:limit]

    async def claim(self, doc_id: str, until: datetime) -> bool:
        held = self.leases.get(doc_id)
        if held is not None and held > datetime.now(until.tzinfo):
            return False
        self.leases[doc_id] = until
        return True

    async def backlog(self) -> tuple[int, datetime | None]:
        times = [entry["at"] for doc in self.docs.values() for entry in doc.get("outbox", [])]
        return len(times), min(times, default=None)


class FakeMessages:
    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.outbox = FakeOutbox(self.docs, "messages")

    async def ensure_indexes(self) -> None:
        return None

    def _store(self, workspace_id: str, message: Message, **extra: Any) -> bool:
        if message.id in self.docs:
            return False
        rank = RANK.get(message.status or "")
        fields = message.model_dump(exclude={"status", "reactions"})
        self.docs[message.id] = fields | {"workspace_id": workspace_id, "status_rank": rank} | extra
        return True

    async def add_inbound(self, workspace_id: str, message: Message) -> bool:
        return self._store(workspace_id, message)

    async def add_inbound_many(self, messages: list[tuple[str, Message]]) -> None:
        for workspace_id, message in messages:
            self._store(workspace_id, message)

    async def add_send(self, workspace_id: str, send: Send, outbox: list[Doc]) -> bool:
        return self._store(
            workspace_id,
            send.message,
            send_key=send.send_key,
            fingerprint=send.fingerprint,
            outbox=list(outbox),
        )

    def _find(self, workspace_id: str, **fields: Any) -> Doc | None:
        return next(
            (
                d
                for d in self.docs.values()
                if d["workspace_id"] == workspace_id
                and all(d.get(k) == v for k, v in fields.items())
            ),
            None,
        )

    async def get(self, workspace_id: str, message_id: str) -> Message | None:
        doc = self._find(workspace_id, id=message_id)
        return _message(doc) if doc else None

    async def get_send(self, workspace_id: str, message_id: str) -> Send | None:
        doc = self._find(workspace_id, id=message_id)
        if doc is None or "send_key" not in doc:
            return None
        return Send(message=_message(doc), send_key=doc["send_key"], fingerprint=doc["fingerprint"])

    async def by_wamid(self, workspace_id: str, wamid: str) -> Message | None:
        doc = self._find(workspace_id, wamid=wamid)
        return _message(doc) if doc else None

    async def timeline(
        self, workspace_id: str, conversation_id: str, before: Cursor | None, limit: int
    ) -> list[Message]:
        found = [
            d
            for d in self.docs.values()
            if d["workspace_id"] == workspace_id and d["conversation_id"] == conversation_id
        ]
        found.sort(key=lambda d: (d["at"], d["id"]), reverse=True)
        if before is not None:
            found = [d for d in found if (d["at"], d["id"]) < (before.at, before.id)]
        return [_message(d) for d in found[:limit]]

    async def link_accepted(
        self, workspace_id: str, send_key: str, wamid: str, at: datetime
    ) -> Message | None:
        doc = self._find(workspace_id, send_key=send_key)
        other = self._find(workspace_id, wamid=wamid)
        if doc is None or (other is not None and other is not doc):
            return None
        doc["wamid"] = wamid
        return _ticked(doc, Tick(status="accepted", at=at))

    async def apply_tick(self, workspace_id: str, wamid: str, tick: Tick) -> Message | None:
        doc = self._find(workspace_id, wamid=wamid, direction="outbound")
        if doc is None:
            return None
        if tick.error is not None:
            doc |= {"error": tick.error.model_dump(), "failure_reason": "meta_error"}
        return _ticked(doc, tick)

    async def for_statuses(
        self, workspace_id: str, send_keys: list[str], wamids: list[str]
    ) -> list[tuple[Message, str | None]]:
        return [
            (_message(doc), doc.get("send_key"))
            for doc in self.docs.values()
            if doc["workspace_id"] == workspace_id
            and (doc.get("send_key") in send_keys or doc.get("wamid") in wamids)
        ]

    async def apply_statuses(self, workspace_id: str, writes: list[StatusWrite]) -> None:
        for write in writes:
            doc = self.docs[write.message_id]
            if write.linked_wamid is not None:
                doc["wamid"] = write.linked_wamid
            for status, at in write.times.items():
                _ticked(doc, Tick(status=status, at=at))
            doc |= {
                k: v.model_dump() if hasattr(v, "model_dump") else v
                for k, v in write.fields.items()
            }

    async def mark_failed(
        self, workspace_id: str, send_key: str, failure: Failure
    ) -> Message | None:
        doc = self._find(workspace_id, send_key=send_key)
        if doc is None:
            return None
        doc |= {
            "error": failure.error.model_dump(),
            "failure_reason": failure.reason,
            "retryable": failure.retryable,
        }
        return _ticked(doc, Tick(status="failed", at=failure.at))

    async def start_retry(
        self, workspace_id: str, failed: Send, send_key: str, at: datetime, outbox: list[Doc]
    ) -> Message | None:
        attempt = failed.message.attempt
        doc = self._find(workspace_id, id=failed.message.id, status_rank=FAILED, attempt=attempt)
        if doc is None:
            return None
        doc |= {
            "status_rank": 0,
            "status_times": {"pending": to_ms(at)},
            "attempt": attempt + 1,
            "send_key": send_key,
            "wamid": None,
            "error": None,
            "failure_reason": None,
            "retryable": None,
        }
        doc["outbox"] = doc.get("outbox", []) + outbox
        return _message(doc)

    async def revoke(self, workspace_id: str, wamid: str) -> Message | None:
        doc = self._find(workspace_id, wamid=wamid)
        if doc is None:
            return None
        doc["revoked"] = True
        return _message(doc)


def _ticked(doc: Doc, tick: Tick) -> Message:
    times = doc.setdefault("status_times", {})
    times[tick.status] = min(times.get(tick.status, tick.at), tick.at)
    if tick.status in RANK:
        doc["status_rank"] = max(doc.get("status_rank") or 0, RANK[tick.status])
    return _message(doc)


def _message(doc: Doc) -> Message:
    rank = doc.get("status_rank")
    fields = {k: v for k, v in doc.items() if k in Message.model_fields}
    return Message.model_validate(
        fields | {"status": status_name(rank) if rank is not None else None}
    )


class FakeReactions:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str, str], Doc] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def react(
        self, workspace_id: str, target_wamid: str, reactor: str, emoji: str | None, at: datetime
    ) -> bool:
        kept = self.docs.get((workspace_id, target_wamid, reactor))
        if kept is not None and kept["at"] > at:
            return False
        self.docs[(workspace_id, target_wamid, reactor)] = {"emoji": emoji, "at": at}
        return True

    async def for_wamids(
        self, workspace_id: str, wamids: list[str]
    ) -> dict[str, list[ReactionView]]:
        found: dict[str, list[ReactionView]] = {}
        for (ws, wamid, _), doc in sorted(self.docs.items(), key=lambda item: item[1]["at"]):
            if ws == workspace_id and wamid in wamids and doc["emoji"] is not None:
                found.setdefault(wamid, []).append(ReactionView(emoji=doc["emoji"], at=doc["at"]))
        return found


class FakeParked:
    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, str, Tick]] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def park(self, workspace_id: str, event_id: str, wamid: str, tick: Tick) -> None:
        self.docs.setdefault(event_id, (workspace_id, wamid, tick))

    async def park_many(self, workspace_id: str, parked: list[tuple[str, str, Tick]]) -> None:
        for event_id, wamid, tick in parked:
            await self.park(workspace_id, event_id, wamid, tick)

    async def waiting_many(
        self, workspace_id: str, wamids: list[str]
    ) -> list[tuple[str, str, Tick]]:
        return [
            (event_id, w, tick)
            for event_id, (ws, w, tick) in self.docs.items()
            if ws == workspace_id and w in wamids
        ]

    async def waiting(self, workspace_id: str, wamid: str) -> list[tuple[str, Tick]]:
        return [
            (event_id, tick)
            for event_id, (ws, w, tick) in self.docs.items()
            if ws == workspace_id and w == wamid
        ]

    async def release(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self.docs.pop(event_id, None)
