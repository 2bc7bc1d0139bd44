"""The real store and the fake behave the same on what the inbox relies on (run on both)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hanout_shared.contracts.whatsapp import ContactIdentity, MetaError, TextContent
from hanout_shared.platform.phones import wa_id_e164
from inbox.channels.templates import ChannelTemplates
from inbox.conversations.messages import Failure, Message, Send, Tick, inbound_message_id
from inbox.conversations.model import (
    ContactMatch,
    ConversationRow,
    CustomerLink,
    InboundChange,
    LastMessage,
    ReadMark,
    conversation_id,
)
from inbox.conversations.search import ListQuery, Search
from inbox.sending.model import outbound
from inbox.values import Cursor, Person, to_ms

from .builders import a_template, an_outbox, key_of, now, random_ref, real_store
from .fakes import FakeStore

AGENT = Person(id="agent-1", name="Amina")


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeStore()
        return
    async with real_store(request.getfixturevalue("mongodb_url"), "inbox_test") as real:
        yield real


def change(ws: str, wa_id: str, minutes_ago: float = 0, **kw: Any) -> InboundChange:
    at = to_ms(now() - timedelta(minutes=minutes_ago))
    key = key_of(ws, wa_id)
    event_id = kw.pop("event_id", None) or random_ref("event")
    last = LastMessage(
        message_id=event_id,
        direction="inbound",
        type="text",
        preview=kw.pop("preview", "salam"),
        at=at,
    )
    fields = {
        "event_id": event_id,
        "workspace_id": ws,
        "conversation_id": conversation_id(key),
        "conversation_key": key,
        "phone_number_id": key.split(":")[1],
        "display_phone_number": None,
        "contact": ContactIdentity(wa_id=wa_id, profile_name=kw.pop("name", "Karim")),
        "phone_e164": wa_id_e164(wa_id),
        "wamid": random_ref("wamid"),
        "at": at,
        "last": last,
        "counts_unread": True,
        "opens_window": True,
        "awaits_reply": True,
    }
    return InboundChange(**fields | kw)


async def test_an_inbound_change_applies_once_and_a_late_one_keeps_the_preview(store: Any) -> None:
    ws = random_ref("ws")
    first = change(ws, "212612345678", preview="newer")
    opened = await store.conversations.record_inbound(first)
    again = await store.conversations.record_inbound(first)
    late = await store.conversations.record_inbound(change(ws, "212612345678", 5, preview="older"))
    assert (opened.opened, again.opened, late.opened) == (True, True, False)
    assert again.row.unread_count == 1
    assert (late.row.unread_count, late.row.last_message.preview) == (2, "newer")
    assert late.row.last_inbound_wamid == first.wamid
    reopened = await store.conversations.record_inbound(change(ws, "212612345678", -60 * 25))
    assert (reopened.opened, reopened.reopened) == (True, True)


async def test_a_reply_answers_only_what_came_before_it(store: Any) -> None:
    ws = random_ref("ws")
    result = await store.conversations.record_inbound(change(ws, "212612345678", 10))
    reply = LastMessage(
        message_id="m", direction="outbound", type="text", preview="ok", at=to_ms(now())
    )
    answered = await store.conversations.record_outbound(ws, result.row.id, reply)
    assert (answered.awaiting_reply, answered.last_message.preview) == (False, "ok")
    late = await store.conversations.record_inbound(change(ws, "212612345678", 5))
    assert late.row.awaiting_reply is False
    newer = await store.conversations.record_inbound(change(ws, "212612345678", -1))
    assert newer.row.awaiting_reply is True


async def test_lists_filter_search_count_and_page_alike(store: Any) -> None:
    ws = random_ref("ws")
    for i, (wa_id, name) in enumerate(
        [("212612345678", "Fatima"), ("212698765432", "Youssef"), ("212661112233", "Zineb")]
    ):
        await store.conversations.record_inbound(change(ws, wa_id, 10 - i, name=name))
    rows = await store.conversations.page(ws, ListQuery(limit=10))
    assert [r.contact.profile_name for r in rows] == ["Zineb", "Youssef", "Fatima"]
    after = Cursor(at=rows[0].last_activity_at, id=rows[0].id)
    tail = await store.conversations.page(ws, ListQuery(limit=1, after=after))
    assert [r.contact.profile_name for r in tail] == ["Youssef"]
    by_digits = await store.conversations.page(ws, ListQuery(search=Search(digits="0698")))
    by_name = await store.conversations.page(ws, ListQuery(search=Search(text="zin")))
    assert [r.contact.profile_name for r in by_digits + by_name] == ["Youssef", "Zineb"]
    mark = await store.conversations.mark_read(ws, rows[0].id, _read(), [])
    assert mark.unread_count == 0
    counts = await store.conversations.counts_of(ws, ListQuery(agent_id="agent-1"))
    assert (counts.all, counts.unread, counts.mine, counts.no_reply) == (3, 2, 0, 3)
    assert await store.conversations.page(random_ref("ws"), ListQuery()) == []


def _read() -> ReadMark:
    return ReadMark(at=to_ms(now()), by=AGENT, receipt_wamid=None)


async def test_an_older_contact_match_changes_nothing(store: Any) -> None:
    ws = random_ref("ws")
    key = key_of(ws)

    def match(minutes_ago: int, name: str) -> ContactMatch:
        link = CustomerLink(
            outcome="known",
            customer_id="c1",
            name=name,
            matched_at=to_ms(now() - timedelta(minutes=minutes_ago)),
        )
        return ContactMatch(
            workspace_id=ws,
            conversation_id=conversation_id(key),
            conversation_key=key,
            phone_number_id=key.split(":")[1],
            customer=link,
            customer_phone_e164=None,
            names=[name.lower()],
        )

    assert (await store.conversations.apply_match(match(1, "New"))).customer.name == "New"
    assert await store.conversations.apply_match(match(5, "Old")) is None
    assert await store.conversations.page(ws, ListQuery()) == []  # no message yet: not listed
    assert await store.conversations.rename_customer(ws, "c1", "Renamed", 3) == 1
    assert await store.conversations.repoint_customer(ws, ["c1"], "c9", "Merged") == 1
    row = await store.conversations.get(ws, conversation_id(key))
    assert (row.customer.customer_id, row.customer.name) == ("c9", "Merged")


def a_send(ws: str, key: str = "click") -> Send:
    conversation = change(ws, "212612345678")
    row = ConversationRow(
        id=conversation.conversation_id,
        workspace_id=ws,
        conversation_key=conversation.conversation_key,
        phone_number_id="p",
    )
    message = outbound(
        message_id=random_ref("msg"),
        conversation=row,
        content=TextContent(body="ok"),
        reply_to_wamid=None,
        agent=AGENT,
        client_key=key,
        at=now(),
    )
    return Send(message=message, send_key=random_ref("key"), fingerprint="f")


async def test_a_send_is_stored_once_and_its_status_only_moves_forward(store: Any) -> None:
    send = a_send(random_ref("ws"))
    ws = send.message.conversation_key.split(":")[0]
    outbox = an_outbox(ws)
    assert await store.messages.add_send(ws, send, outbox) is True
    assert await store.messages.add_send(ws, send, an_outbox(ws)) is False
    pending = await store.messages.outbox.pending(send.message.id)
    assert [entry["id"] for entry in pending] == [outbox[0]["id"]]
    assert send.message.id in await store.messages.outbox.stale(now() + timedelta(seconds=1), 100)
    await store.messages.outbox.clear(send.message.id, pending)
    assert await store.messages.outbox.pending(send.message.id) == []
    at = to_ms(now())
    linked = await store.messages.link_accepted(ws, send.send_key, "wamid.1", at)
    assert (linked.status, linked.wamid) == ("accepted", "wamid.1")
    read = await store.messages.apply_tick(ws, "wamid.1", Tick(status="read", at=at))
    late = await store.messages.apply_tick(ws, "wamid.1", Tick(status="sent", at=at - timedelta(1)))
    assert (read.status, late.status) == ("read", "read")
    assert set(late.status_times) == {"pending", "accepted", "read", "sent"}
    assert await store.messages.apply_tick(ws, "wamid.unknown", Tick(status="read", at=at)) is None


async def test_a_failed_send_can_be_retried_once_per_attempt(store: Any) -> None:
    send = a_send(random_ref("ws"))
    ws = send.message.conversation_key.split(":")[0]
    await store.messages.add_send(ws, send, [])
    failure = Failure(
        reason="meta_error", error=MetaError(code=131026), retryable=True, at=to_ms(now())
    )
    failed = await store.messages.mark_failed(ws, send.send_key, failure)
    assert (failed.status, failed.error.code) == ("failed", 131026)
    stored = await store.messages.get_send(ws, send.message.id)
    retried = await store.messages.start_retry(ws, stored, "key-2", now(), [])
    assert (retried.status, retried.attempt, retried.error) == ("pending", 2, None)
    assert await store.messages.start_retry(ws, stored, "key-3", now(), []) is None
    assert (await store.messages.get_send(ws, send.message.id)).send_key == "key-2"


async def test_the_timeline_is_in_whatsapp_time_order_with_reactions_kept_newest(
    store: Any,
) -> None:
    ws, conversation = random_ref("ws"), random_ref("conv")
    at = to_ms(now())
    for minutes, text in [(1, "second"), (5, "first"), (0, "third")]:
        wamid = f"wamid.{text}"
        message = Message(
            id=inbound_message_id(ws, wamid),
            conversation_id=conversation,
            conversation_key="k",
            direction="inbound",
            type="text",
            wamid=wamid,
            at=at - timedelta(minutes=minutes),
            summary=text,
            text=text,
        )
        assert await store.messages.add_inbound(ws, message) is True
        assert await store.messages.add_inbound(ws, message) is False
    found = await store.messages.timeline(ws, conversation, None, 2)
    assert [m.text for m in found] == ["third", "second"]
    older = await store.messages.timeline(
        ws, conversation, Cursor(at=found[-1].at, id=found[-1].id), 5
    )
    assert [m.text for m in older] == ["first"]
    assert await store.reactions.react(ws, "wamid.first", "c", "❤️", at) is True
    assert await store.reactions.react(ws, "wamid.first", "c", "😮", at - timedelta(1)) is False
    assert [
        r.emoji for r in (await store.reactions.for_wamids(ws, ["wamid.first"]))["wamid.first"]
    ] == ["❤️"]
    assert await store.reactions.react(ws, "wamid.first", "c", None, at) is True
    assert await store.reactions.for_wamids(ws, ["wamid.first"]) == {}
    assert (await store.messages.revoke(ws, "wamid.second")).revoked is True


async def test_parked_statuses_templates_and_channels(store: Any) -> None:
    ws, at = random_ref("ws"), to_ms(now())
    await store.parked.park(ws, "e1", "wamid.x", Tick(status="delivered", at=at))
    await store.parked.park(ws, "e1", "wamid.x", Tick(status="delivered", at=at))
    assert [event_id for event_id, _ in await store.parked.waiting(ws, "wamid.x")] == ["e1"]
    await store.parked.release(["e1"])
    assert await store.parked.waiting(ws, "wamid.x") == []
    newer = ChannelTemplates(phone_number_id="p1", synced_at=at, templates=[a_template()])
    older = ChannelTemplates(phone_number_id="p1", synced_at=at - timedelta(1), templates=[])
    assert await store.templates.replace(ws, newer) is True
    assert await store.templates.replace(ws, older) is False
    assert len((await store.templates.for_channel(ws, "p1")).templates) == 1
    await store.channels.remember(ws, "p1", "212522000111")
    await store.channels.remember(ws, "p1", None)
    assert (await store.channels.set_read_receipts(ws, "p1", True)).read_receipts is True
    [channel] = await store.channels.list(ws)
    assert (channel.display_phone_number, channel.read_receipts) == ("212522000111", True)
    assert await store.channels.set_read_receipts(ws, "p2", True) is None
