"""List counts a crash left unmoved, between an API write and its counts, are set right again by
the counts' reconciler: on the real store."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from inbox.conversations.model import Assignment, FilterCounts, LastMessage, ReadMark
from inbox.conversations.reconciler import CountsReconciler
from inbox.conversations.search import ListQuery
from inbox.store import Store
from inbox.values import Person, to_ms

from .builders import now, random_ref, real_store
from .test_store import change

pytestmark = pytest.mark.integration
AMINA = Person(id="agent-1", name="Amina")
Write = Callable[[Store, str, str], Awaitable[object]]


@pytest.fixture
async def store(mongodb_url: str) -> AsyncIterator[Store]:
    async with real_store(mongodb_url, "inbox_reconcile") as real:
        yield real


async def _read(store: Store, ws: str, conversation: str) -> object:
    read = ReadMark(at=to_ms(now()), by=AMINA, receipt_wamid=None)
    return await store.conversations.mark_read(ws, conversation, read, [])


async def _reply(store: Store, ws: str, conversation: str) -> object:
    reply = LastMessage(
        message_id=None, direction="outbound", type="text", preview="ok", at=to_ms(now())
    )
    return await store.conversations.record_outbound(ws, conversation, reply)


async def _assign(store: Store, ws: str, conversation: str) -> object:
    take = Assignment(conversation_id=conversation, assignee=AMINA, by=AMINA, at=to_ms(now()))
    return await store.conversations.assign(ws, None, take, [])


async def _unassign(store: Store, ws: str, conversation: str) -> object:
    free = Assignment(conversation_id=conversation, assignee=None, by=AMINA, at=to_ms(now()))
    return await store.conversations.assign(ws, AMINA.id, free, [])


WRITES: dict[str, tuple[Write, FilterCounts]] = {
    "read": (_read, FilterCounts(all=1, unread=0, mine=0, no_reply=1)),
    "reply": (_reply, FilterCounts(all=1, unread=1, mine=0, no_reply=0)),
    "assign": (_assign, FilterCounts(all=1, unread=1, mine=1, no_reply=1)),
    "unassign": (_unassign, FilterCounts(all=1, unread=1, mine=0, no_reply=1)),
}


def _crash_the_next_counts_write(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = store.conversations.counts
    original = counts.add

    async def add(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(counts, "add", original)
        raise RuntimeError("the process died here")

    monkeypatch.setattr(counts, "add", add)


@pytest.mark.parametrize("name", list(WRITES))
async def test_counts_are_right_again_after_a_crash_between_a_write_and_its_counts(
    store: Store, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    write, expected = WRITES[name]
    ws = random_ref("ws")
    opened = await store.conversations.record_inbound(change(ws, "212612000001"))
    conversation = opened.row.id
    if write is _unassign:
        await _assign(store, ws, conversation)
    _crash_the_next_counts_write(store, monkeypatch)
    with pytest.raises(RuntimeError):
        await write(store, ws, conversation)
    query = ListQuery(agent_id=AMINA.id)
    assert await store.conversations.counts_of(ws, query) != expected  # the crash left them off
    reconciler = CountsReconciler(store.conversations, interval_s=60, grace_s=30)
    assert ws not in await reconciler.sweep()  # a mark this young may be a write under way
    assert ws in await reconciler.sweep(timedelta(0))
    assert await store.conversations.counts_of(ws, query) == expected
    await store.conversations.recount(ws)
    assert await store.conversations.counts_of(ws, query) == expected
    assert ws not in await reconciler.sweep(timedelta(0))  # the mark went with the recount


async def test_a_write_that_finished_leaves_no_mark(store: Store) -> None:
    ws = random_ref("ws")
    opened = await store.conversations.record_inbound(change(ws, "212612000002"))
    for write, _ in WRITES.values():
        await write(store, ws, opened.row.id)
    reconciler = CountsReconciler(store.conversations, interval_s=60, grace_s=30)
    assert ws not in await reconciler.sweep(timedelta(0))
