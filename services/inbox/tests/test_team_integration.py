"""Two agents on two inbox replicas (separate processes) on the real broker and store."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient

from devtools.services import ServiceProcess, infra_env
from hanout_shared.contracts import topics
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.live.replay import TopicReader

from .builders import a_message_received, key_of, random_ref
from .live_client import Listener
from .real_stack import Tap, publish, skip_history, until
from .team_builders import CONFIRMED, an_order, order_created, stage_changed

pytestmark = pytest.mark.integration

AMINA = {"actorid": "agent-amina", "actorname": "Amina"}


@dataclass
class Replicas:
    urls: list[str]
    env: dict[str, str]
    logs: Path

    def spawn(self, name: str) -> ServiceProcess:
        """One more replica of the same deployment (same database and groups)."""
        (self.logs / name).mkdir()
        replica = ServiceProcess("inbox", self.env, self.logs / name)
        replica.start()
        return replica


@pytest.fixture(scope="module")
def replicas(
    kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any
) -> Iterator[Replicas]:
    database = group = f"inbox_{uuid.uuid4().hex[:8]}"
    asyncio.run(skip_history(kafka_bootstrap_servers, group))
    env = infra_env(
        kafka_bootstrap_servers,
        mongodb_url,
        HANOUT_ENV="test",
        INBOX_MONGODB_DATABASE=database,
        INBOX_CONSUMER_GROUP=group,
        INBOX_OUTBOX_SWEEP_INTERVAL_S="1",
        INBOX_PRESENCE_TTL_S="2",
    )
    found = Replicas([], env, Path(tmp_path_factory.mktemp("inbox-replicas")))
    started = [found.spawn(name) for name in ("a", "b")]
    try:
        for replica in started:
            replica.wait_ready()
        found.urls = [replica.url for replica in started]
        yield found
    finally:
        for replica in started:
            replica.stop()
        with MongoClient(mongodb_url) as client:
            client.drop_database(database)


class Colleague:
    def __init__(self, url: str, workspace: str, agent_id: str, name: str) -> None:
        self.token = mint_dev_token(
            DEV_JWT_SECRET, agent_id=agent_id, workspace_id=workspace, name=name
        )
        self.url, self.id, self.workspace = url, agent_id, workspace
        headers = {"Authorization": f"Bearer {self.token}"}
        self.http = httpx.AsyncClient(base_url=url, headers=headers, timeout=10)

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.http.request(method, path, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def listen(self, url: str | None = None, last_event_id: str | None = None) -> Listener:
        return await Listener(url or self.url, self.token, last_event_id).start()


@pytest.fixture
async def team(
    replicas: Replicas, kafka_bootstrap_servers: str
) -> AsyncIterator[tuple[Colleague, Colleague, str]]:
    workspace = random_ref("ws")
    amina = Colleague(replicas.urls[0], workspace, "agent-amina", "Amina")
    youssef = Colleague(replicas.urls[1], workspace, "agent-youssef", "Youssef")
    await publish(
        kafka_bootstrap_servers, topics.WHATSAPP_INBOUND, a_message_received(workspace_id=workspace)
    )

    async def opened() -> Any:
        return (await amina.call("GET", "/conversations"))["items"]

    [row] = await until(opened, "the customer's conversation is listed")
    try:
        yield amina, youssef, row["id"]
    finally:
        await amina.http.aclose()
        await youssef.http.aclose()


def about(kind: str, **data: Any) -> Any:
    def match(event: dict[str, Any]) -> bool:
        body = event["data"] or {}
        return event["event"] == kind and all(
            body.get("data", {}).get(k) == v for k, v in data.items()
        )

    return match


async def test_one_agent_assigns_and_composes_and_the_other_sees_it_live(
    team: tuple[Colleague, Colleague, str],
) -> None:
    amina, youssef, conversation = team
    watching = await youssef.listen()  # on the other replica
    try:
        await amina.call(
            "PUT", f"/conversations/{conversation}/assignee", json={"agent_id": amina.id}
        )
        await amina.call(
            "POST", f"/conversations/{conversation}/presence", json={"state": "composing"}
        )
        assigned = await watching.wait_for(
            about("inbox.conversation.assigned", assignee_id=amina.id), "the assignment, live"
        )
        assert assigned["data"]["actorname"] == "Amina"
        await watching.wait_for(
            about("inbox.presence.changed", agent_id=amina.id, state="composing"), "composing, live"
        )
        here = await youssef.call("GET", f"/conversations/{conversation}/presence")
        assert [(p["agent_name"], p["state"]) for p in here] == [("Amina", "composing")]

        async def faded() -> bool:
            return await youssef.call("GET", f"/conversations/{conversation}/presence") == []

        await until(faded, "composing fades after the last heartbeat")
        mine = await amina.call("GET", "/conversations", params={"filter": "mine"})
        assert [r["id"] for r in mine["items"]] == [conversation]
    finally:
        await watching.stop()


async def test_a_note_never_leaves_while_a_reply_does(
    team: tuple[Colleague, Colleague, str], kafka_bootstrap_servers: str
) -> None:
    amina, youssef, conversation = team
    outbound = Tap(kafka_bootstrap_servers, topics.WHATSAPP_OUTBOUND)
    await outbound.start()
    watching = await youssef.listen()
    try:
        note = await amina.call(
            "POST",
            f"/conversations/{conversation}/notes",
            json={"body": '{"content": {"kind": "text", "body": "Salam"}} — refuse le produit X'},
        )
        path = f"/conversations/{conversation}/notes/{note['id']}"
        await amina.call("PATCH", path, json={"body": "Rappeler demain"})
        await watching.wait_for(about("inbox.note.edited"), "the edited note, live")
        reply = {"content": {"kind": "text", "body": "Salam, kayn"}}
        headers = {"Idempotency-Key": random_ref("click")}
        await amina.call(
            "POST", f"/conversations/{conversation}/messages", json=reply, headers=headers
        )

        async def commands() -> list[dict[str, Any]]:
            return await outbound.read(amina.workspace)

        sent = await until(commands, "the reply's command")
        await watching.wait_for(about("inbox.message.sent"), "the reply, live")
        # at least once: a replica's outbox sweep may publish the same command again (same id)
        once = {c["id"]: c["type"] for c in await outbound.read(amina.workspace)}
        assert list(once.values()) == ["whatsapp.message.send_requested"]
        assert sent[0]["data"]["content"]["body"] == "Salam, kayn"
        timeline = await youssef.call("GET", f"/conversations/{conversation}/messages")
        assert [i["kind"] for i in timeline["items"]] == ["message", "note", "message"]
    finally:
        await watching.stop()
        await outbound.stop()


async def test_an_order_created_from_the_conversation_appears_in_its_trail_with_its_creator(
    team: tuple[Colleague, Colleague, str], kafka_bootstrap_servers: str
) -> None:
    amina, youssef, conversation = team
    workspace = amina.workspace
    watching = await youssef.listen()
    try:
        order = an_order(workspace, key_of(workspace))
        created, moved = order_created(workspace, order, **AMINA), stage_changed(workspace, order)
        await publish(kafka_bootstrap_servers, topics.ORDERS_EVENTS, created, moved, created)
        live = await watching.wait_for(
            about("inbox.activity.recorded"), "the order in the trail, live"
        )
        assert live["data"]["actorname"] == "Amina"

        async def trail() -> list[dict[str, Any]]:
            items = (await youssef.call("GET", f"/conversations/{conversation}/messages"))["items"]
            lines = [i for i in items if i["kind"] == "activity"]
            return lines if len(lines) == 2 else []

        first, second = await until(trail, "both order lines in the timeline")
        assert (first["by"]["name"], first["action"]) == ("Amina", "order_created")
        assert first["stage"]["color"] == "#2563eb"
        assert (second["stage"]["name"], second["stage"]["color"]) == ("Confirmée", CONFIRMED.color)
    finally:
        await watching.stop()


async def test_a_client_reconnecting_to_the_other_replica_with_its_last_id_misses_nothing(
    team: tuple[Colleague, Colleague, str],
) -> None:
    amina, youssef, conversation = team
    notes = f"/conversations/{conversation}/notes"
    first = await youssef.listen()
    await amina.call("POST", notes, json={"body": "avant"})
    await first.wait_for(about("inbox.note.added"), "the first note")
    await first.stop()
    last_id = first.last_id
    added = [
        (await amina.call("POST", notes, json={"body": f"absent {n}"}))["id"] for n in range(3)
    ]
    again = await youssef.listen(url=amina.url, last_event_id=last_id)  # the other replica
    try:
        assert again.events[0]["event"] == "ready" and again.events[0]["data"]["resumed"]
        await again.wait_for(
            lambda e: len(again.of("inbox.note.added")) == 3, "the three notes missed"
        )
        got = [e["data"]["data"]["note"]["note_id"] for e in again.of("inbox.note.added")]
        assert got == added
    finally:
        await again.stop()


async def test_a_stream_resumes_without_a_gap_on_a_replica_started_after_it_left(
    team: tuple[Colleague, Colleague, str], replicas: Replicas
) -> None:
    amina, youssef, conversation = team
    notes = f"/conversations/{conversation}/notes"
    first = await youssef.listen()
    await amina.call("POST", notes, json={"body": "avant"})
    await first.wait_for(about("inbox.note.added"), "the first note")
    await first.stop()
    added = [
        (await amina.call("POST", notes, json={"body": f"absent {n}"}))["id"] for n in range(2)
    ]
    fresh = replicas.spawn(f"fresh-{uuid.uuid4().hex[:6]}")  # it never read those notes
    try:
        await asyncio.to_thread(fresh.wait_ready)
        again = await youssef.listen(url=fresh.url, last_event_id=first.last_id)
        assert again.events[0]["event"] == "ready" and again.events[0]["data"]["resumed"]
        await again.wait_for(lambda e: len(again.of("inbox.note.added")) == 2, "the notes missed")
        assert [e["data"]["data"]["note"]["note_id"] for e in again.of("inbox.note.added")] == added
        await again.stop()
    finally:
        fresh.stop()


async def test_the_topic_is_read_back_for_one_workspace_within_bounds(
    kafka_bootstrap_servers: str,
) -> None:
    mine, other = random_ref("ws"), random_ref("ws")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = []
        for n, workspace in enumerate([mine, other, mine, mine]):
            body = {"id": f"e{n}", "type": "inbox.note.added", "workspaceid": workspace}
            sent.append(
                await producer.send_and_wait(topics.INBOX_EVENTS, json.dumps(body).encode())
            )
    finally:
        await producer.stop()
    partition = sent[0].partition
    floor, until = {partition: sent[0].offset}, {partition: sent[-1].offset}
    reader = TopicReader(kafka_bootstrap_servers, limit=1000)
    found = await reader.read(mine, floor, until)
    assert [json.loads(body)["id"] for _, _, body in found or []] == ["e0", "e2"]
    assert await TopicReader(kafka_bootstrap_servers, limit=2).read(mine, floor, until) is None
