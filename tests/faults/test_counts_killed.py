"""The inbox killed with SIGKILL during a stream of reads and assignments, and restarted: its list
counts end equal to a recount of its conversations, without anyone asking for one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from tests.e2e.clients import Pending, Simulator, a_moroccan_mobile, eventually
from tests.e2e.shops import Shop

from .stack import Faulty

pytestmark = pytest.mark.integration
CUSTOMERS = 4
ROUNDS = 9
FILTERS = ("all", "unread", "mine", "no_reply")
AGENT = "agent-1"  # the shop's agent
# The restarted inbox takes a mark this old as left by the crash, and looks every second: the
# defaults (30 s each) would only make the test wait longer.
QUICK = {"INBOX_COUNTS_GRACE_S": "2", "INBOX_COUNTS_SWEEP_INTERVAL_S": "1"}


async def _quietly(call: Awaitable[Any]) -> None:
    """An agent's click: refused or unanswered while the inbox is down, and that is all."""
    try:
        await call
    except httpx.TransportError:
        pass


def _clicks(shop: Shop, conversations: list[str], number: int) -> list[Awaitable[Any]]:
    """Each conversation read, and taken or freed, in one burst."""
    agent, calls = shop.agent, list[Awaitable[Any]]()
    for i, conversation in enumerate(conversations):
        path = f"/conversations/{conversation}"
        calls.append(agent.call("inbox", "POST", f"{path}/read"))
        if (number + i) % 2:
            calls.append(agent.call("inbox", "PUT", f"{path}/assignee", json={"agent_id": AGENT}))
        else:
            calls.append(agent.call("inbox", "DELETE", f"{path}/assignee"))
    return calls


async def _listed(shop: Shop, name: str) -> int:
    """How many conversations the list `name` shows, page by page: a recount that writes nothing."""
    params: dict[str, Any] = {"filter": name, "limit": 200}
    held = 0
    while True:
        page = await shop.agent.ok("inbox", "GET", "/conversations", params=params)
        held += len(page["items"])
        if not page["next_cursor"]:
            return held
        params["cursor"] = page["next_cursor"]


async def _counts_as_listed(shop: Shop, wanted: int) -> dict[str, int] | Pending:
    try:
        counts = await shop.agent.ok("inbox", "GET", "/conversations/counts")
        listed = {name: await _listed(shop, name) for name in FILTERS}
        again = await shop.agent.ok("inbox", "GET", "/conversations/counts")
    except httpx.TransportError as exc:
        return Pending(repr(exc))
    if counts != again or listed["all"] != wanted:  # still moving
        return Pending(f"counts {counts}, then {again}; listed {listed}")
    shown = {name: counts[name] for name in FILTERS}
    return shown if shown == listed else Pending(f"counts {shown}, listed {listed}")


@pytest.mark.xfail(
    strict=False,
    reason="open bug (#19): when the kill lands between an assignment's write and its counts, "
    "'mine' was seen one short after restart for 90 s (fresh-clone run of 2026-12-08); "
    "the reconciler does not yet repair that case",
)
async def test_list_counts_equal_a_recount_after_the_inbox_is_killed_mid_writes(
    faulty: Faulty, shop: Shop, simulator: Simulator
) -> None:
    inbox = faulty.services["inbox"]
    usual = inbox.env
    inbox.env = {**usual, **QUICK}  # read at the restart below
    try:
        customers = [(a_moroccan_mobile(), f"Client {i}") for i in range(CUSTOMERS)]
        for wa_id, name in customers:
            await simulator.customer_writes(shop.channel, wa_id, ["Salam"], name=name)

        async def all_listed() -> list[str] | Pending:
            rows = await shop.agent.conversations()
            return [row["id"] for row in rows] if len(rows) == CUSTOMERS else Pending(str(rows))

        conversations = await eventually(all_listed, "every customer listed")
        for number in range(ROUNDS):
            for wa_id, name in customers:
                await simulator.customer_writes(shop.channel, wa_id, [f"Round {number}"], name=name)
            clicks = [
                asyncio.ensure_future(_quietly(c)) for c in _clicks(shop, conversations, number)
            ]
            if number == ROUNDS // 3:
                await asyncio.sleep(0)  # the clicks are on the wire when the process dies
                inbox.kill()
            if number == 2 * ROUNDS // 3:
                await asyncio.to_thread(inbox.restart)
            await asyncio.gather(*clicks)
        settled = await eventually(
            lambda: _counts_as_listed(shop, CUSTOMERS), "list counts equal to the lists"
        )
        recounted = await shop.admin.ok("inbox", "POST", "/conversations/counts/recount")
        assert {name: recounted[name] for name in FILTERS} == settled
    finally:
        inbox.env = usual
