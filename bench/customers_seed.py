"""The customers benchmark's seed: N valid Moroccan numbers bulk-loaded as cards, kept in a
named database and topped up, so 1,000,000 cards are seeded once and measured often."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from customers.cards.model import Customer, new_customer_id
from customers.store import Store
from hanout_shared.contracts.customers import Phone

SEED_BATCH = 5000
IMPORTS_FROM = 50_000_000  # above every seeded number (national(i) for i < 50M)


def cards(workspace: str, nationals: list[str]) -> list[Customer]:
    """What `new_customer` makes of `0<national>` typed by an agent, without parsing it again:
    the numbers come valid from `numbers`, so E.164 is `+212<national>`."""
    now = datetime.now(UTC)
    stamp = {"created_at": now, "created_by": "bench", "updated_at": now, "updated_by": "bench"}
    return [
        Customer(
            customer_id=new_customer_id(now),
            workspace_id=workspace,
            name=f"Client {n}",
            phones=[Phone(e164=f"+212{n}", raw=f"0{n}")],
            city="Casablanca",
            tags=["bench"],
            **stamp,
        )
        for n in nationals
    ]


def national(i: int) -> str:
    """The i-th seeded number: 60x to 67x are all valid Moroccan mobiles (80M numbers)."""
    return f"6{i:08d}"


async def seed(store: Store, workspace: str, count: int, start: int = 0) -> tuple[list[str], float]:
    """Customers `start` to `count` bulk-loaded by the store (cards + key index rows, as `add`
    writes them); the numbers of all `count`, and customers/s. Two loaders: one builds its
    batch while the store writes the other's."""
    batches = iter(range(start, count, SEED_BATCH))

    async def loader() -> None:
        for start in batches:
            nationals = [national(i) for i in range(start, min(start + SEED_BATCH, count))]
            await store.load(workspace, await asyncio.to_thread(cards, workspace, nationals))

    started = time.perf_counter()
    await asyncio.gather(loader(), loader())
    return [national(i) for i in range(count)], (count - start) / (time.perf_counter() - started)


async def seeded(db: Any, store: Store, workspace: str, count: int) -> tuple[list[str], float]:
    """Top the workspace up to `count` cards: a kept database is seeded once, measured often,
    and the seeding rate of its last top-up is kept beside it, with the count it reached (the
    measures import cards into the same workspace)."""
    kept = await db["bench_seed"].find_one({"_id": workspace}) or {}
    have = kept["count"] if "count" in kept else await store.customers.count(workspace)
    if have > count:
        raise SystemExit(f"{have} customers already seeded, more than the {count} asked for")
    rate = kept.get("per_s")
    if have < count or rate is None:
        _, rate = await seed(store, workspace, count, start=have)
    await db["bench_seed"].replace_one(
        {"_id": workspace}, {"per_s": rate, "count": count}, upsert=True
    )
    return [national(i) for i in range(count)], rate


async def unused_numbers(db: Any, spread: int) -> int:
    """The first of `spread` numbers no seed and no earlier import into this database used: an
    import of numbers already there would find duplicates, not create cards."""
    used = await db["bench_seed"].find_one_and_update(
        {"_id": "#imports"},
        {"$inc": {"used": spread}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return IMPORTS_FROM + int(used["used"]) - spread
