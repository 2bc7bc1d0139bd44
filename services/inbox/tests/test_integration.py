"""The inbox as its own process on the real broker and store, fed the events ingest publishes."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import topics
from inbox.conversations.model import WINDOW_CLOSED

from .builders import (
    PHONE_NUMBER_ID,
    a_message_received,
    a_sample,
    a_status,
    a_template,
    accepted,
    key_of,
    now,
    random_ref,
    templates_synced,
)
from .real_stack import Agent, Tap, publish, skip_history, until
from .samples import SAMPLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def inbox(kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any) -> Iterator[str]:
    database = group = f"inbox_{uuid.uuid4().hex[:8]}"
    asyncio.run(skip_history(kafka_bootstrap_servers, group))
    env = infra_env(
        kafka_bootstrap_servers,
        mongodb_url,
        HANOUT_ENV="test",
        INBOX_MONGODB_DATABASE=database,
        INBOX_CONSUMER_GROUP=group,
        INBOX_OUTBOX_SWEEP_INTERVAL_S="1",
    )
    service = ServiceProcess("inbox", env, Path(tmp_path_factory.mktemp("inbox-logs")))
    service.start()
    try:
        service.wait_ready()
        yield service.url
    finally:
        service.stop()
        with MongoClient(mongodb_url) as client:
            client.drop_database(database)


@pytest.fixture
async def outbound(kafka_bootstrap_servers: str) -> AsyncIterator[Tap]:
    tap = Tap(kafka_bootstrap_servers, topics.WHATSAPP_OUTBOUND)
    await tap.start()
    try:
        yield tap
    finally:
        await tap.stop()


@pytest.fixture
async def agent(inbox: str) -> AsyncIterator[Agent]:
    found = Agent(inbox, random_ref("ws"))
    try:
        yield found
    finally:
        await found.http.aclose()


async def test_a_customer_writing_every_type_opens_conversations_with_the_right_summary(
    agent: Agent, kafka_bootstrap_servers: str
) -> None:
    kinds = sorted(SAMPLES)
    numbers = {f"2126{i:08d}": kind for i, kind in enumerate(kinds, start=10_000_000)}
    events = [
        a_sample(agent.workspace_id, kind, wa_id=n, profile_name=kind)
        for n, kind in numbers.items()
    ]
    bsuid = a_message_received(
        workspace_id=agent.workspace_id, wa_id=None, user_id="MA.77", profile_name=None
    )
    random.Random(3).shuffle(events)
    await publish(kafka_bootstrap_servers, topics.WHATSAPP_INBOUND, *events, bsuid)
    rows = await until(lambda: _all(agent, len(kinds) + 1), "every conversation listed")
    by_number = {row["contact"].get("wa_id") or row["contact"]["user_id"]: row for row in rows}
    for number, kind in numbers.items():
        row, customer = by_number[number], kind != "system"
        assert row["last_message"]["preview"] == SAMPLES[kind][1], kind
        assert (row["unread_count"], row["window"]["open"]) == (int(customer), customer), kind
    assert by_number["MA.77"]["display_name"] == "MA.77"


async def _all(agent: Agent, count: int) -> list[dict[str, Any]] | None:
    rows = await agent.rows()
    return rows if len(rows) == count else None


async def a_conversation(agent: Agent, bootstrap: str, hours_ago: float = 0) -> str:
    sent_at = now() - timedelta(hours=hours_ago)
    await publish(
        bootstrap,
        topics.WHATSAPP_INBOUND,
        a_message_received(workspace_id=agent.workspace_id, sent_at=sent_at),
    )
    [row] = await until(agent.rows, "the conversation listed")
    conversation: str = row["id"]
    return conversation


async def test_a_reply_is_one_command_and_shuffled_duplicated_statuses_end_at_read(
    agent: Agent, outbound: Tap, kafka_bootstrap_servers: str
) -> None:
    conversation = await a_conversation(agent, kafka_bootstrap_servers)
    text = {"kind": "text", "body": "Kayn, 199 DH."}
    first, again = (
        await agent.send(conversation, text, "click-1"),
        await agent.send(conversation, text, "click-1"),
    )
    assert (first.status_code, again.status_code) == (201, 200)
    await agent.send(conversation, {"kind": "text", "body": "marker"}, "click-2")
    # Commands of one conversation share a partition: once the marker is there, so is any double.
    commands = await until(lambda: _commands_until_marker(outbound, agent.workspace_id), "commands")
    [command] = [c for c in commands if c["data"]["content"]["body"] == text["body"]]
    key, ws, at = key_of(agent.workspace_id), agent.workspace_id, now()
    wamid = f"wamid.{uuid.uuid4().hex}"
    ticks = [
        a_status(ws, key, wamid, s, at + timedelta(seconds=i))
        for i, s in enumerate(["sent", "delivered", "read"])
    ] * 2
    random.Random(5).shuffle(ticks)
    link = accepted(ws, key, command["data"]["idempotency_key"], wamid)
    await publish(kafka_bootstrap_servers, topics.WHATSAPP_STATUS, *ticks[:3], link, *ticks[3:])
    message = await until(lambda: _status(agent, conversation, first.json()["id"], "read"), "read")
    assert {"sent", "delivered", "read"} <= set(message["status_times"])


async def _commands_until_marker(tap: Tap, workspace_id: str) -> list[dict[str, Any]] | None:
    sends = [
        r for r in await tap.read(workspace_id) if r["type"] == "whatsapp.message.send_requested"
    ]
    return sends if any(r["data"]["content"].get("body") == "marker" for r in sends) else None


async def _status(agent: Agent, conversation: str, message_id: str, status: str) -> Any:
    response = await agent.http.get(f"/conversations/{conversation}/messages")
    found = [m for m in response.json()["items"] if m["id"] == message_id]
    return found[0] if found and found[0]["status"] == status else None


async def test_a_closed_window_refuses_free_text_and_a_synced_template_goes(
    agent: Agent, outbound: Tap, kafka_bootstrap_servers: str
) -> None:
    conversation = await a_conversation(agent, kafka_bootstrap_servers, hours_ago=26)
    await publish(
        kafka_bootstrap_servers,
        topics.WHATSAPP_TEMPLATES,
        templates_synced(agent.workspace_id, a_template()),
    )
    url = f"/channels/{PHONE_NUMBER_ID}/templates"
    await until(lambda: _json(agent, url, "templates"), "templates synced")
    refused = await agent.send(conversation, {"kind": "text", "body": "salam"}, "k-1")
    assert refused.status_code == 409
    assert refused.json() == {"code": "window_closed", "message": WINDOW_CLOSED}
    template = {
        "kind": "template",
        "name": "order_confirmation",
        "language": "fr",
        "components": [
            {"type": "header", "parameters": [{"type": "image", "link": "https://cdn.ma/p.jpg"}]},
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Karim"}, {"type": "text", "text": "#9"}],
            },
        ],
    }
    assert (await agent.send(conversation, template, "k-2")).status_code == 201
    [command] = await until(lambda: outbound.read(agent.workspace_id), "the template command")
    assert command["data"]["content"]["name"] == "order_confirmation"


async def _json(agent: Agent, url: str, field: str) -> Any:
    response = await agent.http.get(url)
    return response.status_code == 200 and response.json()[field]


async def test_filters_the_number_selector_and_search_return_exactly_the_right_rows(
    agent: Agent, kafka_bootstrap_servers: str
) -> None:
    ws, at, other = agent.workspace_id, now(), "220011223344556"
    people = [
        ("Fatima Zahra", "212612345678", PHONE_NUMBER_ID),
        ("Youssef", "212698765432", PHONE_NUMBER_ID),
        ("Zineb", "212661112233", other),
        ("Hicham", "33698000111", other),
    ]
    await publish(
        kafka_bootstrap_servers,
        topics.WHATSAPP_INBOUND,
        *[
            a_message_received(
                workspace_id=ws,
                wa_id=wa_id,
                profile_name=name,
                phone_number_id=pnid,
                sent_at=at - timedelta(minutes=10 - i),
            )
            for i, (name, wa_id, pnid) in enumerate(people)
        ],
    )
    rows = await until(lambda: _all(agent, 4), "four conversations")
    ids = {row["display_name"]: row["id"] for row in rows}
    await agent.http.post(f"/conversations/{ids['Youssef']}/read")
    await agent.send(ids["Zineb"], {"kind": "text", "body": "Wa alaykum salam"}, "k-z")
    assert await agent.names() == ["Zineb", "Hicham", "Youssef", "Fatima Zahra"]
    assert await agent.names(filter="unread") == ["Zineb", "Hicham", "Fatima Zahra"]
    assert await agent.names(filter="no_reply") == ["Hicham", "Youssef", "Fatima Zahra"]
    assert await agent.names(filter="mine") == []
    assert await agent.names(phone_number_id=other) == ["Zineb", "Hicham"]
    assert await agent.names(q="06 12 34 56 78") == ["Fatima Zahra"]
    assert await agent.names(q="+212698") == ["Youssef"]
    assert await agent.names(q="0698") == ["Hicham", "Youssef"]
    assert await agent.names(q="zin") == ["Zineb"]
    counts = (await agent.http.get("/conversations/counts")).json()
    assert counts == {"all": 4, "unread": 3, "mine": 0, "no_reply": 3}
