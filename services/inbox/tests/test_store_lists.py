"""Every list, number and page of the conversation list and its counts: real store and fake."""

from typing import Any

from inbox.conversations.model import (
    Assignment,
    ConversationRow,
    LastMessage,
    ReadMark,
    conversation_id,
)
from inbox.conversations.search import ListQuery, Search
from inbox.values import Cursor, Person, to_ms

from .builders import key_of, now, random_ref
from .test_store import change, store

__all__ = ["store"]
AMINA = Person(id="agent-1", name="Amina")
OTHER_NUMBER = "220011223344556"
# Minutes ago: seconds apart, hours, days, a year: the list reads them through widening windows.
AGES = [0.2, 0.5, 3, 45, 600, 3000, 40_000, 200_000, 500_000, 520_000]
PREDICATES = {
    "all": lambda row: True,
    "unread": lambda row: row.unread_count > 0,
    "mine": lambda row: row.assignee is not None and row.assignee.id == AMINA.id,
    "no_reply": lambda row: row.awaiting_reply,
}


async def _seed(store: Any, ws: str) -> list[ConversationRow]:
    rows = []
    for i, age in enumerate(AGES):
        wa_id = f"2126{i:08d}"
        number = OTHER_NUMBER if i % 3 == 0 else "110928374650192"
        key = key_of(ws, wa_id, number)
        first = change(ws, wa_id, age, name=f"Client {i}", phone_number_id=number)
        first = first.model_copy(
            update={"conversation_key": key, "conversation_id": conversation_id(key)}
        )
        rows.append((await store.conversations.record_inbound(first)).row)
    for row in rows[1::2]:
        await store.conversations.mark_read(ws, row.id, _read(), [])
    for row in rows[::4]:
        reply = LastMessage(
            message_id=None, direction="outbound", type="text", preview="ok", at=to_ms(now())
        )
        await store.conversations.record_outbound(ws, row.id, reply)
    for row in rows[::3]:
        take = Assignment(conversation_id=row.id, assignee=AMINA, by=AMINA, at=to_ms(now()))
        await store.conversations.assign(ws, None, take, [])
    free = Assignment(conversation_id=rows[0].id, assignee=None, by=AMINA, at=to_ms(now()))
    await store.conversations.assign(ws, AMINA.id, free, [])
    return [await store.conversations.get(ws, row.id) for row in rows]


def _read() -> ReadMark:
    return ReadMark(at=to_ms(now()), by=AMINA, receipt_wamid=None)


async def _all_pages(store: Any, ws: str, query: ListQuery) -> list[str]:
    seen: list[str] = []
    while True:
        page = await store.conversations.page(ws, query)
        seen += [row.id for row in page]
        if len(page) < query.limit:
            return seen
        last = page[-1]
        query = query.model_copy(update={"after": Cursor(at=last.last_activity_at, id=last.id)})


async def test_every_list_pages_newest_first_and_counts_what_it_holds(store: Any) -> None:
    ws = random_ref("ws")
    rows = await _seed(store, ws)
    newest = sorted(rows, key=lambda row: (row.last_activity_at, row.id), reverse=True)
    for number in (None, OTHER_NUMBER):
        counts = await store.conversations.counts_of(
            ws, ListQuery(agent_id=AMINA.id, phone_number_id=number)
        )
        for name, holds in PREDICATES.items():
            wanted = [
                row.id
                for row in newest
                if holds(row) and (number is None or row.phone_number_id == number)
            ]
            query = ListQuery(filter=name, agent_id=AMINA.id, phone_number_id=number, limit=3)
            assert await _all_pages(store, ws, query) == wanted, (name, number)
            assert getattr(counts, name) == len(wanted), (name, number)
    assert {n for row in rows for n in PREDICATES if PREDICATES[n](row)} == set(PREDICATES)


async def test_a_search_pages_and_counts_only_what_it_finds(store: Any) -> None:
    ws = random_ref("ws")
    rows = await _seed(store, ws)
    found = await _all_pages(store, ws, ListQuery(search=Search(text="client 1"), limit=1))
    assert found == [rows[1].id]
    counts = await store.conversations.counts_of(
        ws, ListQuery(search=Search(digits="0600000008"), agent_id=AMINA.id)
    )
    assert (counts.all, counts.unread) == (1, 1)
    nothing = ListQuery(search=Search(text=".*"), agent_id=AMINA.id)
    assert await store.conversations.page(ws, nothing) == []
    assert (await store.conversations.counts_of(ws, nothing)).all == 0


async def test_a_redelivered_message_moves_no_count(store: Any) -> None:
    ws = random_ref("ws")
    first = change(ws, "212612345678", 1)
    await store.conversations.record_inbound(first)
    await store.conversations.record_inbound(first)
    later = change(ws, "212612345678", 3)  # older than the conversation: the late path
    await store.conversations.record_inbound(later)
    counts = await store.conversations.counts_of(ws, ListQuery(agent_id=AMINA.id))
    assert (counts.all, counts.unread, counts.no_reply) == (1, 1, 1)
