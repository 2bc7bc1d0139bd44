"""Notes, the trail, the library, assignment and the roster behave alike on both stores."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from hanout_shared.contracts.inbox import ActivityOrder
from inbox.conversations.model import Assignment
from inbox.conversations.search import ListQuery
from inbox.library.model import LibraryItem, LibraryQuery, kind_of, media_ref
from inbox.library.store import CHUNK_BYTES
from inbox.notes.model import Note
from inbox.team.model import Activity
from inbox.values import Cursor, Person, fold, to_ms

from .builders import an_outbox, now, random_ref, real_store
from .fakes import FakeStore
from .team_builders import CONFIRMED, NEW
from .test_store import change

AMINA, YOUSSEF = Person(id="agent-1", name="Amina"), Person(id="agent-2", name="Youssef")


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeStore()
        return
    async with real_store(request.getfixturevalue("mongodb_url"), "inbox_test") as real:
        yield real


def a_note(conversation: str, minutes_ago: float, author: Person = AMINA, body: str = "x") -> Note:
    return Note(
        id=random_ref("note"),
        conversation_id=conversation,
        conversation_key=f"ws:pnid:{conversation}",
        at=to_ms(now() - timedelta(minutes=minutes_ago)),
        author=author,
        body=body,
    )


def outbox() -> list[dict[str, Any]]:
    return an_outbox(random_ref("ws"))


async def test_notes_are_kept_once_changed_by_their_author_only_and_paged(store: Any) -> None:
    ws, conversation = random_ref("ws"), random_ref("conv")
    notes = [a_note(conversation, minutes) for minutes in (3, 2, 1)]
    for note in notes:
        assert await store.notes.add(ws, note, outbox())
    assert not await store.notes.add(ws, notes[0], outbox())
    assert len(await store.notes.outbox.pending(notes[0].id)) == 1
    edited = notes[1].model_copy(update={"body": "modifié", "edited_at": to_ms(now())})
    stolen = edited.model_copy(update={"author": YOUSSEF})
    assert await store.notes.edit(ws, stolen, outbox()) is None
    assert (await store.notes.edit(ws, edited, outbox())).body == "modifié"
    assert not await store.notes.delete(
        ws, notes[2].model_copy(update={"author": YOUSSEF}), now(), []
    )
    assert await store.notes.delete(ws, notes[2], to_ms(now()), outbox())
    assert await store.notes.get(ws, notes[2].id) is None
    listed = await store.notes.timeline(ws, conversation, None, 10)
    assert [n.body for n in listed] == ["modifié", "x"]
    older = await store.notes.timeline(
        ws, conversation, Cursor(at=listed[0].at, id=listed[0].id), 10
    )
    assert [n.id for n in older] == [notes[0].id]
    assert await store.notes.timeline(random_ref("ws"), conversation, None, 10) == []


async def test_the_trail_keeps_one_line_per_cause_with_exact_amounts(store: Any) -> None:
    ws, conversation = random_ref("ws"), random_ref("conv")
    line = Activity(
        id=random_ref("activity"),
        conversation_id=conversation,
        conversation_key="k",
        at=to_ms(now()),
        action="order_stage_changed",
        by=AMINA,
        summary="moved order #1 from Nouvelle to Confirmée",
        order=ActivityOrder(order_id="o", label="#1", total=Decimal("398.10")),
        stage=CONFIRMED,
        from_stage=NEW,
    )
    assert await store.activity.record(ws, line)
    assert not await store.activity.record(ws, line)
    [kept] = await store.activity.timeline(ws, conversation, None, 10)
    assert kept == line and kept.order.total == Decimal("398.10")


def an_item(ws: str, content: bytes, name: str, mime: str, minutes_ago: float = 0) -> LibraryItem:
    return LibraryItem(
        id=f"{ws}-{uuid.uuid4().hex[:6]}",
        name=name,
        kind=kind_of(mime),
        mime_type=mime,
        filename=f"{name}.bin",
        size=len(content),
        sha256="0" * 64,
        added_by=AMINA,
        added_at=to_ms(now() - timedelta(minutes=minutes_ago)),
    )


async def test_library_files_round_trip_whole_and_are_found_by_name_and_kind(store: Any) -> None:
    ws = random_ref("ws")
    video = bytes(range(256)) * (CHUNK_BYTES * 2 // 256 + 7)  # three chunks
    clip = an_item(ws, video, "Démo caftan", "video/mp4", minutes_ago=2)
    stored, added = await store.library.add(ws, clip, video)
    assert added and stored == clip
    assert await store.library.content(clip.id) == video
    again, added_again = await store.library.add(ws, clip.model_copy(update={"name": "x"}), video)
    assert (again.name, added_again) == ("Démo caftan", False)
    doc = an_item(ws, b"%PDF", "Tarifs", "application/pdf", minutes_ago=1)
    await store.library.add(ws, doc, b"%PDF")
    assert [i.name for i in await store.library.page(ws, LibraryQuery())] == [
        "Tarifs",
        "Démo caftan",
    ]
    found = await store.library.page(ws, LibraryQuery(text=fold("DEMO")))
    assert [i.id for i in found] == [clip.id]
    assert [i.id for i in await store.library.page(ws, LibraryQuery(kind="document"))] == [doc.id]
    after = Cursor(at=doc.added_at, id=doc.id)
    assert [i.id for i in await store.library.page(ws, LibraryQuery(after=after))] == [clip.id]
    ref = media_ref("meta-1", to_ms(now()))
    remembered = await store.library.remember_media(ws, clip.id, "110928374650192", ref)
    assert remembered.media == {"110928374650192": ref}
    assert await store.library.get(random_ref("ws"), clip.id) is None
    assert await store.library.delete(ws, clip.id)
    assert await store.library.get(ws, clip.id) is None and not await store.library.delete(
        ws, clip.id
    )


async def test_an_assignment_applies_only_over_the_assignee_it_expects(store: Any) -> None:
    ws = random_ref("ws")
    row = (await store.conversations.record_inbound(change(ws, "212612345678"))).row
    take = Assignment(conversation_id=row.id, assignee=AMINA, by=AMINA, at=to_ms(now()))
    taken = await store.conversations.assign(ws, None, take, outbox())
    assert (taken.assignee, taken.assigned_by) == (AMINA, AMINA)
    late = Assignment(conversation_id=row.id, assignee=YOUSSEF, by=YOUSSEF, at=to_ms(now()))
    assert await store.conversations.assign(ws, None, late, outbox()) is None
    assert await store.conversations.assign(random_ref("ws"), "agent-1", late, []) is None
    mine = await store.conversations.page(ws, ListQuery(filter="mine", agent_id="agent-1"))
    assert [r.id for r in mine] == [row.id]
    free = Assignment(conversation_id=row.id, assignee=None, by=YOUSSEF, at=to_ms(now()))
    freed = await store.conversations.assign(ws, "agent-1", free, outbox())
    assert freed.assignee is None and freed.assigned_by == YOUSSEF
    assert await store.conversations.page(ws, ListQuery(filter="mine", agent_id="agent-1")) == []
    assert len(await store.conversations.outbox.pending(row.id)) == 2
    again = await store.conversations.assign(ws, None, take, [])
    assert again.assignee == AMINA


async def test_the_roster_lists_agents_seen_by_name(store: Any) -> None:
    ws = random_ref("ws")
    await store.agents.seen(ws, YOUSSEF, to_ms(now()))
    await store.agents.seen(ws, AMINA, to_ms(now()))
    await store.agents.seen(random_ref("ws"), AMINA, to_ms(now()))
    assert [(m.id, m.name) for m in await store.agents.list(ws)] == [
        ("agent-1", "Amina"),
        ("agent-2", "Youssef"),
    ]
