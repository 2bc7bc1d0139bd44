"""The inbox benchmark's seed: N conversations as the inbox's store writes them, with their
search keys and list counts, written in big batches (not through the API)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from bench.inbox_workloads import AGENT, PNID
from hanout_shared.contracts.whatsapp import ContactIdentity, conversation_key
from inbox.conversations.model import InboundChange, LastMessage, conversation_id
from inbox.conversations.store.finder import SearchIndex
from inbox.conversations.store.inbound import first_update
from inbox.conversations.store.listing import ListCounts, list_keys, moves
from inbox.conversations.store.queries import applied, row_of
from inbox.values import to_ms

SEED_BATCH, SPACING_S = 5_000, 20  # 100k conversations over 23 days of activity


def conversation_doc(workspace: str, i: int, at: datetime) -> dict[str, Any]:
    """What the inbox's store writes for a contact's first message (the same update, applied
    in memory), varied: a third read, a quarter answered, a fifth assigned to the bench agent."""
    wa_id = f"2126{i:08d}"
    number = PNID if i % 2 else "220011223344556"
    key = conversation_key(workspace, number, wa_id)
    when = to_ms(at - timedelta(seconds=SPACING_S * i))
    last = LastMessage(
        message_id=f"m{i}", direction="inbound", type="text", preview=f"salam {i}", at=when
    )
    change = InboundChange(
        event_id=f"seed-{workspace}-{i}",
        workspace_id=workspace,
        conversation_id=conversation_id(key),
        conversation_key=key,
        phone_number_id=number,
        display_phone_number="212522000111",
        contact=ContactIdentity(wa_id=wa_id, profile_name=f"Client {i}"),
        phone_e164=f"+{wa_id}",
        wamid=f"wamid.seed{i}",
        at=when,
        last=last,
        counts_unread=i % 3 != 0,
        opens_window=True,
        awaits_reply=i % 4 != 0,
    )
    doc = applied(None, change, first_update(change))
    if i % 5 == 0:
        doc["assignee"] = {"id": AGENT, "name": "Bench"}
        doc["lists"] = list_keys(row_of(doc))
    return doc


async def seed(mongo: AsyncMongoClient[Any], database: str, workspace: str, count: int) -> float:
    """Conversations, their search keys and list counts, written in big batches (not through
    the API)."""
    db, at, started = mongo[database], datetime.now(UTC), time.perf_counter()
    counts: Counter[str] = Counter()
    for start_at in range(0, count, SEED_BATCH):
        batch = [
            conversation_doc(workspace, i, at)
            for i in range(start_at, min(count, start_at + SEED_BATCH))
        ]
        for doc in batch:
            counts += moves(doc, [], doc["lists"])
        await db["conversations"].insert_many(batch, ordered=False)
        await SearchIndex(db["conversation_search"], db["conversation_search_common"]).add_many(
            batch
        )
    await ListCounts(db["conversation_counts"]).add(workspace, counts)
    return count / (time.perf_counter() - started)
