"""Bursts: customers' messages and statuses taken in batches, on the real store (API level)."""

from datetime import timedelta
from typing import Any

import pytest

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import MessageReceivedEvent

from .builders import a_message_received, a_status, accepted, key_of, now, random_ref
from .conftest import TEXT, Service, token_for

pytestmark = pytest.mark.integration


def burst(workspace: str, wa_id: str, count: int, **kw: Any) -> list[MessageReceivedEvent]:
    start = now() - timedelta(minutes=5)
    return [
        a_message_received(
            workspace_id=workspace,
            wa_id=wa_id,
            text=f"msg {i}",
            sent_at=start + timedelta(seconds=i),
            **kw,
        )
        for i in range(count)
    ]


async def counts(service: Service, workspace: str | None = None) -> dict[str, int]:
    ws = workspace or service.workspace
    response = await service.http.get("/conversations/counts", headers=token_for(ws))
    assert response.status_code == 200, response.text
    found: dict[str, int] = response.json()
    return found


async def recounted(service: Service, workspace: str | None = None) -> dict[str, int]:
    """The counts an admin's recount sets from the conversations themselves."""
    ws = workspace or service.workspace
    headers = token_for(ws, role="admin")
    response = await service.http.post("/conversations/counts/recount", headers=headers)
    assert response.status_code in (200, 204), response.text
    return await counts(service, ws)


def ids(service: Service) -> list[str]:
    return [event["id"] for event in service.events()]


async def test_a_batch_of_one_conversation_is_applied_in_order_with_exact_counts(
    real_service: Service,
) -> None:
    service = real_service
    mine = burst(service.workspace, "212611000001", 4)
    other = burst(service.workspace, "212611000002", 1)
    await service.deliver_batch(topics.WHATSAPP_INBOUND, mine[0], other[0], *mine[1:])
    rows = {row["contact"]["wa_id"]: row for row in await service.conversations()}
    row = rows["212611000001"]
    assert (row["unread_count"], row["awaiting_reply"]) == (4, True)
    assert row["last_message"]["preview"] == "msg 3"
    timeline = await service.get(f"/conversations/{row['id']}/messages")
    assert [m["text"] for m in timeline["items"]] == ["msg 0", "msg 1", "msg 2", "msg 3"]
    updated = [
        e["data"]["conversation"]["unread_count"]
        for e in service.events("inbox.conversation.updated")
        if e["subject"] == row["id"]
    ]
    assert updated == [1, 2, 3, 4]
    kinds = [e["type"] for e in service.events() if e["subject"] == row["id"]]
    assert kinds[:3] == [
        "inbox.message.received",
        "inbox.conversation.opened",
        "inbox.conversation.updated",
    ]
    assert kinds.count("inbox.conversation.opened") == 1
    expected = {"all": 2, "unread": 2, "mine": 0, "no_reply": 2}
    assert await counts(service) == expected
    assert await recounted(service) == expected


async def test_a_duplicate_in_a_batch_and_a_redelivered_batch_count_and_announce_once(
    real_service: Service,
) -> None:
    service = real_service
    first, second = burst(service.workspace, "212611000003", 2)
    await service.deliver_batch(topics.WHATSAPP_INBOUND, first, second, first)
    announced = ids(service)
    assert len(announced) == len(set(announced))
    await service.deliver_batch(topics.WHATSAPP_INBOUND, first, second)
    assert set(ids(service)) == set(announced)
    [row] = await service.conversations()
    assert row["unread_count"] == 2
    timeline = await service.get(f"/conversations/{row['id']}/messages")
    assert len(timeline["items"]) == 2
    assert await counts(service) == {"all": 1, "unread": 1, "mine": 0, "no_reply": 1}


async def test_messages_of_several_workspaces_in_one_batch_count_in_their_own(
    real_service: Service,
) -> None:
    service = real_service
    other_ws = random_ref("ws")
    ours = burst(service.workspace, "212611000004", 2) + burst(service.workspace, "212611000005", 1)
    theirs = burst(other_ws, "212611000004", 3)
    mixed = [ours[0], theirs[0], ours[1], theirs[1], ours[2], theirs[2]]
    await service.deliver_batch(topics.WHATSAPP_INBOUND, *mixed)
    assert await counts(service) == {"all": 2, "unread": 2, "mine": 0, "no_reply": 2}
    assert await counts(service, other_ws) == {"all": 1, "unread": 1, "mine": 0, "no_reply": 1}
    response = await service.http.get("/conversations", headers=token_for(other_ws))
    [row] = response.json()["items"]
    assert row["unread_count"] == 3


async def test_counts_are_right_after_a_crash_between_the_conversations_and_their_counts(
    real_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counts' write fails once, after the conversations were written: the batch comes back
    (its offsets were not committed) and the counts end equal to a recount."""
    service = real_service
    batch = burst(service.workspace, "212611000006", 2) + burst(
        service.workspace, "212611000007", 1
    )
    list_counts = service.store.conversations.counts
    crashes = [RuntimeError("the process died here")]
    original_add = list_counts.add
    original_many = getattr(list_counts, "add_many", None)

    async def crash_once(real: Any, *args: Any, **kwargs: Any) -> None:
        if crashes:
            raise crashes.pop()
        await real(*args, **kwargs)

    async def add(*args: Any, **kwargs: Any) -> None:
        await crash_once(original_add, *args, **kwargs)

    async def add_many(*args: Any, **kwargs: Any) -> None:
        await crash_once(original_many, *args, **kwargs)

    monkeypatch.setattr(list_counts, "add", add)
    monkeypatch.setattr(list_counts, "add_many", add_many, raising=False)
    with pytest.raises(RuntimeError):
        await service.deliver_batch(topics.WHATSAPP_INBOUND, *batch)
    await service.deliver_batch(topics.WHATSAPP_INBOUND, *batch)
    expected = {"all": 2, "unread": 2, "mine": 0, "no_reply": 2}
    assert await counts(service) == expected
    assert await recounted(service) == expected


async def sends(service: Service, count: int) -> tuple[str, list[str], list[str]]:
    """A conversation with `count` agent sends: its id, the messages' ids and their keys."""
    await service.receive(*burst(service.workspace, "212611000008", 1))
    [row] = await service.conversations()
    messages = [(await service.send(row["id"], TEXT)).json()["id"] for _ in range(count)]
    keys = [c["data"]["idempotency_key"] for c in service.commands()]
    return row["id"], messages, keys


async def statuses_of(service: Service, conversation: str) -> dict[str, str | None]:
    timeline = await service.get(f"/conversations/{conversation}/messages")
    return {m["id"]: m["status"] for m in timeline["items"] if m["direction"] == "outbound"}


async def test_statuses_of_sends_in_one_batch_end_at_their_latest(real_service: Service) -> None:
    service = real_service
    conversation, (one, two), (key_one, key_two) = await sends(service, 2)
    ws, key, at = service.workspace, key_of(service.workspace, "212611000008"), now()
    batch = [
        accepted(ws, key, key_one, "wamid.one"),
        a_status(ws, key, "wamid.one", "sent", at),
        accepted(ws, key, key_two, "wamid.two"),
        a_status(ws, key, "wamid.one", "delivered", at + timedelta(seconds=1)),
        a_status(ws, key, "wamid.two", "read", at + timedelta(seconds=2)),
        a_status(ws, key, "wamid.one", "sent", at),  # a duplicate, late
    ]
    await service.deliver_batch(topics.WHATSAPP_STATUS, *batch)
    assert await statuses_of(service, conversation) == {one: "delivered", two: "read"}
    updates = service.events("inbox.message.updated")
    assert {e["data"]["message"]["message_id"] for e in updates} == {one, two}
    announced = ids(service)
    await service.deliver_batch(topics.WHATSAPP_STATUS, *batch)
    assert set(ids(service)) == set(announced)
    assert await statuses_of(service, conversation) == {one: "delivered", two: "read"}


async def test_a_status_before_its_accepted_in_one_batch_is_applied(real_service: Service) -> None:
    service = real_service
    conversation, [one], [key_one] = await sends(service, 1)
    ws, key = service.workspace, key_of(service.workspace, "212611000008")
    early = a_status(ws, key, "wamid.early", "delivered", now())
    await service.deliver_batch(topics.WHATSAPP_STATUS, early)
    assert await statuses_of(service, conversation) == {one: "pending"}
    late_link = accepted(ws, key, key_one, "wamid.early")
    again = a_status(ws, key, "wamid.early", "sent", now())
    await service.deliver_batch(topics.WHATSAPP_STATUS, again, late_link)
    assert await statuses_of(service, conversation) == {one: "delivered"}


async def test_a_batch_that_came_back_after_its_counts_were_moved_counts_nothing_twice(
    real_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the counts' write: the batch comes back, finds its receipt, recounts
    nothing and moves nothing again."""
    service = real_service
    batch = burst(service.workspace, "212611000009", 2)
    await service.deliver_batch(topics.WHATSAPP_INBOUND, *batch)
    recounts: list[str] = []
    list_counts = service.store.conversations.counts
    original = list_counts.recount

    async def recount(conversations: Any, workspace_id: str) -> None:
        recounts.append(workspace_id)
        await original(conversations, workspace_id)

    monkeypatch.setattr(list_counts, "recount", recount)
    await service.deliver_batch(topics.WHATSAPP_INBOUND, *batch)
    assert recounts == []
    assert await counts(service) == {"all": 1, "unread": 1, "mine": 0, "no_reply": 1}
