"""How every fault test ends: what the simulator delivered is in the inbox exactly once, every reply
ends at its latest status, and every customer's stats match the orders placed."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.e2e.clients import Pending, Simulator, eventually
from tests.e2e.steps import stats_reaching

from .play import Customer, Play, tolerant

LATEST = "read"  # the simulator's statuses: sent < delivered < read
TICKS = {"sent", "delivered", "read"}


@dataclass(frozen=True)
class Inbox:
    """What one shop's inbox shows: each (direction, wamid) counted, and every outbound message."""

    counts: Counter[tuple[str, str]]
    outbound: dict[str, dict[str, Any]]  # inbox message id → message

    def inbound(self) -> set[str]:
        return {wamid for (direction, wamid) in self.counts if direction == "inbound"}


async def inbox_of(play: Play) -> Inbox:
    counts: Counter[tuple[str, str]] = Counter()
    outbound: dict[str, dict[str, Any]] = {}
    for row in await play.shop.agent.conversations():
        for message in await play.shop.agent.timeline(row["id"]):
            direction = message.get("direction")  # activity items (orders, notes) have none
            if direction and message.get("wamid"):
                counts[(direction, message["wamid"])] += 1
            if direction == "outbound":
                outbound[message["id"]] = message
    return Inbox(counts, outbound)


async def complete(play: Play) -> Inbox | Pending:
    """The inbox once it holds every delivered message and every reply carries all its ticks."""
    inbox = await inbox_of(play)
    missing = set(play.inbound) - inbox.inbound()
    behind = {
        message_id: (inbox.outbound.get(message_id) or {}).get("status")
        for message_id in play.replies
        if not _ticked(inbox.outbound.get(message_id))
    }
    if missing or behind:
        return Pending({"missing": len(missing), "first": sorted(missing)[:2], "behind": behind})
    return inbox


def _ticked(message: dict[str, Any] | None) -> bool:
    if message is None:
        return False
    return bool(message["status"] == LATEST and TICKS <= set(message["status_times"]))


async def all_delivered(simulator: Simulator) -> list[dict[str, Any]] | Pending:
    """Every webhook the simulator was asked to send, accepted by ingest (none given up)."""
    records = await simulator.deliveries()
    assert not [r for r in records if r["given_up"]], "the simulator gave up on a webhook"
    waiting = [r["id"] for r in records if not r["delivered"]]
    return records if not waiting else Pending(f"{len(waiting)} deliveries in flight")


def expected_stats(customer: Customer) -> dict[str, Any]:
    kept = [o for o in customer.orders if o["id"] not in customer.cancelled]
    return {
        "orders_count": len(customer.orders),
        "not_spent_count": len(customer.cancelled),
        "total_spent": sum((Decimal(o["total"]) for o in kept), Decimal(0)),
        "currency": "MAD",
    }


async def reconcile(play: Play) -> float:
    """Assert the end state once reached (within the deadline); the seconds it took."""
    started = time.monotonic()
    await play.settle()
    await eventually(
        tolerant(lambda: complete(play)), "every delivered message and tick in the inbox"
    )
    await eventually(lambda: all_delivered(play.simulator), "every webhook delivered")
    inbox = await eventually(tolerant(lambda: complete(play)), "the inbox after the last webhook")
    assert inbox.inbound() == set(play.inbound), "the inbox shows inbound messages never sent"
    assert {key: n for key, n in inbox.counts.items() if n != 1} == {}, "a message shown twice"
    assert len(inbox.outbound) == len(play.replies), "the inbox shows replies never sent"
    await _sent_once(play)
    for customer in play.customers:
        await _stats_right(play, customer)
    return time.monotonic() - started


async def _sent_once(play: Play) -> None:
    for wa_id in {wa_id for wa_id, _ in play.replies.values()}:
        sends = await play.simulator.sends_to(wa_id)
        texts = Counter(send["body"]["text"]["body"] for send in sends)
        wanted = Counter(text for to, text in play.replies.values() if to == wa_id)
        assert texts == wanted, f"Graph API sends to {wa_id}: {texts} (wanted each once)"


async def _stats_right(play: Play, customer: Customer) -> None:
    agent, customer_id = play.shop.agent, customer.card["customer_id"]
    expected = expected_stats(customer)
    what = f"{customer.name}'s stats"
    await eventually(tolerant(lambda: stats_reaching(play.shop, customer_id, expected)), what)
    listed = await agent.ok("orders", "GET", "/orders", params={"customer_id": customer_id})
    assert sorted(o["id"] for o in listed["items"]) == sorted(o["id"] for o in customer.orders)
