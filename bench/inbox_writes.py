"""The inbox's inbound write path alone: store commands per customer message, and messages/s.

Run by hand: `uv run python -m bench.inbox_writes --messages 2000` (MONGODB_URL names the store;
`PYTHONPATH=DIR` measures another copy of the inbox package, e.g. an older one extracted with
`git archive HEAD services/inbox/inbox`). Customer messages (`whatsapp.message.received`, a new
contact every `--per-contact` messages) go through the consumer's own code in a sequence, as one
partition's consumer applies them: with `--batch N` (the consumer's way since the Speed work) in
batches of N through `inbox.conversations.intake.receive_many`, with `--batch 0` one by one
through `inbox.conversations.updates.receive` (the way before it, and what an older copy has).
A command listener counts every store command it sends. The same run measures raw store upserts,
the floor of each write. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MessageReceived,
    MessageReceivedEvent,
    conversation_key,
)
from inbox.conversations import updates
from inbox.store import Store

READS = {"find", "getMore", "aggregate", "count"}


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def received(workspace: str, i: int, per_contact: int, at: datetime) -> MessageReceivedEvent:
    contact = ContactIdentity(wa_id=f"2126{i // per_contact:08d}", profile_name=f"Client {i}")
    key = conversation_key(workspace, "110928374650192", contact.contact_id())
    wamid = f"wamid.bench{workspace}{i}"
    data = MessageReceived(
        conversation_key=key,
        wamid=wamid,
        channel=Channel(phone_number_id="110928374650192", display_phone_number="212522000111"),
        contact=contact,
        message_type="text",
        sent_at=at + timedelta(milliseconds=i),
        text=f"salam {i}",
    )
    return MessageReceivedEvent.create(
        source="hanout/ingest",
        workspaceid=workspace,
        subject=key,
        data=data,
        id=deterministic_id(wamid, "received"),
        time=data.sent_at,
    )


async def apply(store: Store, events: list[MessageReceivedEvent], batch: int) -> None:
    if batch <= 0:
        for event in events:
            await updates.receive(store, event)
        return
    from inbox.conversations import intake  # here: an older copy measured one by one lacks it

    for start in range(0, len(events), batch):
        await intake.receive_many(store, events[start : start + batch])


async def measure(url: str, messages: int, per_contact: int, batch: int = 0) -> dict[str, Any]:
    listener = Commands()
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(url, tz_aware=True, event_listeners=[listener])
    database, workspace = f"bench_writes_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
    store = Store(mongo[database])
    try:
        await store.ensure_indexes()
        at = datetime.now(UTC)
        events = [received(workspace, i, per_contact, at) for i in range(messages)]
        await updates.receive(store, received(workspace, -per_contact, per_contact, at))
        listener.seen.clear()
        started = time.perf_counter()
        await apply(store, events, batch)
        elapsed = time.perf_counter() - started
        seen = dict(listener.seen)
        scratch = mongo[database]["scratch"]
        upsert_started = time.perf_counter()
        for _ in range(messages):
            await scratch.update_one({"_id": uuid.uuid4().hex}, {"$inc": {"n": 1}}, upsert=True)
        upsert_s = time.perf_counter() - upsert_started
    finally:
        await mongo.drop_database(database)
        await mongo.close()
    total = sum(seen.values())
    writes = total - sum(n for name, n in seen.items() if name in READS)
    return {
        "messages": messages,
        "per_contact": per_contact,
        "batch": batch,
        "messages_per_s": messages / elapsed,
        "commands_per_message": total / messages,
        "writes_per_message": writes / messages,
        "commands": seen,
        "raw_upserts_per_s": messages / upsert_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--per-contact", type=int, default=4, help="messages per conversation")
    parser.add_argument("--batch", type=int, default=0, help="records per batch; 0: one by one")
    args = parser.parse_args(argv)
    url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    result = asyncio.run(measure(url, args.messages, args.per_contact, args.batch))
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
