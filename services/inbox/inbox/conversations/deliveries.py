"""Delivery statuses by the batch: the sends they name read at once, every status applied in
memory in offset order, then one bulk write, and one `inbox.message.updated` per status that
found its message (its id derived from the status, so a redelivery announces the same event).

Each status only moves forward; one whose send is not linked to its wamid yet is parked and
applied when the link (the accepted, or a status carrying our key) arrives."""

import logging
from datetime import datetime
from typing import Any

from hanout_shared.contracts import CloudEvent
from hanout_shared.contracts.whatsapp import (
    MessageAcceptedEvent,
    MessageFailedEvent,
    StatusChangedEvent,
)
from inbox.conversations import messages, updates
from inbox.conversations.messages import RANK, Message, StatusWrite, Tick, status_name
from inbox.store import Store
from inbox.values import to_ms

logger = logging.getLogger("hanout.inbox")
StatusFact = MessageAcceptedEvent | StatusChangedEvent | MessageFailedEvent


class Deliveries:
    """One workspace's sends named by a batch, as the batch leaves them."""

    def __init__(
        self,
        workspace_id: str,
        found: list[tuple[Message, str | None]],
        parked: list[tuple[str, str, Tick]],
    ) -> None:
        self.workspace_id = workspace_id
        self._by_id = {message.id: message for message, _ in found}
        self._by_key = {key: message.id for message, key in found if key}
        self._by_wamid = {m.wamid: m.id for m, _ in found if m.wamid}
        self._writes: dict[str, StatusWrite] = {}
        self._kept = parked  # (event id, wamid, tick): early statuses the store keeps
        self.parking: list[tuple[str, str, Tick]] = []  # early ones of this batch
        self.released: list[str] = []  # kept ones applied now

    def link(self, send_key: str, wamid: str, at: datetime) -> Message | None:
        message_id = self._by_key.get(send_key)
        holder = self._by_wamid.get(wamid)
        if message_id is None:
            return None
        if holder is not None and holder != message_id:
            logger.warning("a wamid is already linked to another message", extra={"wamid": wamid})
            return None
        self._by_wamid[wamid] = message_id
        self._change(message_id, linked_wamid=wamid)
        self._apply(message_id, Tick(status="accepted", at=at))
        return self._release(wamid) or self._by_id[message_id]

    def tick(self, wamid: str, tick: Tick) -> Message | None:
        message_id = self._by_wamid.get(wamid)
        if message_id is None or self._by_id[message_id].direction != "outbound":
            return None
        if tick.error is not None:
            self._set(message_id, {"error": tick.error, "failure_reason": "meta_error"})
        return self._apply(message_id, tick)

    def fail(self, send_key: str, failure: messages.Failure) -> Message | None:
        message_id = self._by_key.get(send_key)
        if message_id is None:
            return None
        fields = {
            "error": failure.error,
            "failure_reason": failure.reason,
            "retryable": failure.retryable,
        }
        self._set(message_id, fields)
        return self._apply(message_id, Tick(status="failed", at=failure.at))

    def park(self, event_id: str, wamid: str, tick: Tick) -> None:
        if all(parked_id != event_id for parked_id, _, _ in self._kept + self.parking):
            self.parking.append((event_id, wamid, tick))

    def writes(self) -> list[StatusWrite]:
        return list(self._writes.values())

    def _release(self, wamid: str) -> Message | None:
        found = None
        for waiting in (self._kept, self.parking):
            for parked in [p for p in waiting if p[1] == wamid]:
                found = self.tick(wamid, parked[2]) or found
                waiting.remove(parked)
                if waiting is self._kept:
                    self.released.append(parked[0])
        return found

    def _apply(self, message_id: str, tick: Tick) -> Message:
        message = self._by_id[message_id]
        times = dict(message.status_times)
        times[tick.status] = min(times.get(tick.status, tick.at), tick.at)
        rank = RANK.get(message.status or "", -1)
        if tick.status in RANK:
            rank = max(rank, RANK[tick.status])
        write = self._writes.get(message_id) or StatusWrite(message_id=message_id)
        write_times = dict(write.times)
        write_times[tick.status] = min(write_times.get(tick.status, tick.at), tick.at)
        self._writes[message_id] = write.model_copy(
            update={"times": write_times, "rank": rank if rank >= 0 else None}
        )
        status = status_name(rank) if rank >= 0 else None
        updated = message.model_copy(update={"status_times": times, "status": status})
        self._by_id[message_id] = updated
        return updated

    def _set(self, message_id: str, fields: dict[str, Any]) -> None:
        self._by_id[message_id] = self._by_id[message_id].model_copy(update=fields)
        write = self._writes.get(message_id) or StatusWrite(message_id=message_id)
        self._writes[message_id] = write.model_copy(update={"fields": write.fields | fields})

    def _change(self, message_id: str, **fields: Any) -> None:
        self._by_id[message_id] = self._by_id[message_id].model_copy(
            update={"wamid": fields["linked_wamid"]}
        )
        write = self._writes.get(message_id) or StatusWrite(message_id=message_id)
        self._writes[message_id] = write.model_copy(update=fields)


def _apply(deliveries: Deliveries, event: StatusFact) -> list[CloudEvent]:
    """One status, as the one-by-one path applies it; the events it announces."""
    if isinstance(event, MessageAcceptedEvent):
        data = event.data
        linked = deliveries.link(data.idempotency_key, data.wamid, to_ms(data.accepted_at))
        if linked is None:
            logger.info("accepted send not from this inbox", extra={"wamid": data.wamid})
        return updates.message_updated(event, linked, "accepted")
    if isinstance(event, MessageFailedEvent):
        failed = event.data
        failure = messages.Failure(
            reason=failed.reason,
            error=failed.error,
            retryable=failed.retryable,
            at=to_ms(failed.failed_at),
        )
        return updates.message_updated(
            event, deliveries.fail(failed.idempotency_key, failure), "failed"
        )
    return _changed(deliveries, event)


def _changed(deliveries: Deliveries, event: StatusChangedEvent) -> list[CloudEvent]:
    data = event.data
    tick = messages.tick(data.status, data.status_at, data.errors)
    if tick is None:
        logger.warning("unusable status name", extra={"status": data.status[:64]})
        return []
    found = deliveries.tick(data.wamid, tick)
    key = data.biz_opaque_callback_data
    if found is None and key and deliveries.link(key, data.wamid, tick.at):
        found = deliveries.tick(data.wamid, tick)  # our key rode back: linked without accepted
    if found is None:
        deliveries.park(event.id, data.wamid, tick)
    return updates.message_updated(event, found, "status")


async def _read(store: Store, workspace_id: str, events: list[StatusFact]) -> Deliveries:
    keys: set[str] = set()
    wamids: set[str] = set()
    for event in events:
        if isinstance(event, MessageFailedEvent):
            keys.add(event.data.idempotency_key)
        elif isinstance(event, MessageAcceptedEvent):
            keys.add(event.data.idempotency_key)
            wamids.add(event.data.wamid)
        else:
            wamids.add(event.data.wamid)
            if event.data.biz_opaque_callback_data:
                keys.add(event.data.biz_opaque_callback_data)
    found = await store.messages.for_statuses(workspace_id, sorted(keys), sorted(wamids))
    parked = await store.parked.waiting_many(workspace_id, sorted(wamids))
    return Deliveries(workspace_id, found, parked)


async def apply_many(store: Store, events: list[StatusFact]) -> list[CloudEvent]:
    """A batch in offset order: per workspace one read of the sends and one of the early
    statuses; then one write of the sends, one of the statuses parked and one of the released."""
    events = list({event.id: event for event in reversed(events)}.values())[::-1]  # once each
    workspaces = list(dict.fromkeys(event.workspaceid for event in events))
    deliveries = {
        ws: await _read(store, ws, [e for e in events if e.workspaceid == ws]) for ws in workspaces
    }
    announced = [_apply(deliveries[event.workspaceid], event) for event in events]
    for ws, delivered in deliveries.items():
        await store.messages.apply_statuses(ws, delivered.writes())
        await store.parked.park_many(ws, delivered.parking)
        if delivered.released:
            await store.parked.release(delivered.released)
    return [event for found in announced for event in found]
