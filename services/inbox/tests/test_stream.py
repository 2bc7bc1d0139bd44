"""The live stream and heartbeats through the API, on the in-memory broker."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

from .builders import a_message_received, random_ref
from .conftest import Service, a_conversation, token_for


def parse(body: str) -> list[dict[str, Any]]:
    """The events of a text/event-stream body (id, event, data)."""
    events = []
    for block in body.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = value
        if "event" in fields:
            events.append(fields)
    return events


async def until(check: Callable[[], Awaitable[Any] | Any], what: str, within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: not within {within} s")


def short_token(service: Service, agent: str = "agent-2", ttl_s: int = 2) -> str:
    return mint_dev_token(
        DEV_JWT_SECRET, agent_id=agent, workspace_id=service.workspace, name="Youssef", ttl_s=ttl_s
    )


async def stream_while(service: Service, act: Callable[[], Awaitable[None]], **request: Any) -> Any:
    """Open a stream that lasts until its short token expires, act meanwhile, return its events."""
    opened = asyncio.create_task(service.http.get("/stream", **request))
    await until(lambda: service.hub.connected() == 1 or opened.done(), "the stream is open")
    await act()
    response: httpx.Response = await opened
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.text)


async def note(service: Service, conversation: str, body: str) -> None:
    response = await service.http.post(
        f"/conversations/{conversation}/notes", json={"body": body}, headers=service.headers()
    )
    assert response.status_code == 201


async def test_a_stream_needs_a_valid_token(service: Service) -> None:
    missing = await service.http.get("/stream")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    bad = await service.http.get("/stream", params={"access_token": "not-a-token"})
    assert bad.status_code == 401


async def test_a_colleague_sees_the_workspace_live_and_nothing_of_other_workspaces(
    service: Service,
) -> None:
    conversation = await a_conversation(service)

    async def act() -> None:
        await note(service, conversation, "Je prends")
        await service.receive(a_message_received(workspace_id=random_ref("other-ws")))

    events = await stream_while(service, act, params={"access_token": short_token(service)})
    kinds = [e["event"] for e in events]
    assert kinds[0] == "ready" and kinds[-1] == "token_expired"
    assert [k for k in kinds[1:-1] if k != "keepalive"] == ["inbox.note.added"]
    assert all(e["id"].startswith("v1:") for e in events)
    roster = await service.get("/agents")
    assert [(m["id"], m["name"]) for m in roster] == [("agent-2", "Youssef")]


async def test_reconnecting_with_the_last_event_id_misses_nothing(service: Service) -> None:
    conversation = await a_conversation(service)
    token = {"Authorization": f"Bearer {short_token(service, ttl_s=2)}"}

    async def first() -> None:
        await note(service, conversation, "un")

    seen = await stream_while(service, first, headers=token)
    [added] = [e for e in seen if e["event"] == "inbox.note.added"]
    await note(service, conversation, "deux")  # while the client is away
    await until(lambda: service.hub.connected() == 0, "the first stream is closed")

    async def nothing() -> None:
        return None

    again = await stream_while(
        service,
        nothing,
        headers={"Authorization": f"Bearer {short_token(service, ttl_s=2)}"}
        | {"Last-Event-ID": added["id"]},
    )
    assert '"resumed":true' in again[0]["data"]
    bodies = [e["data"] for e in again if e["event"] == "inbox.note.added"]
    assert len(bodies) == 1 and '"body":"deux"' in bodies[0]


async def test_a_heartbeat_shows_who_is_here_and_fades_on_its_own(service: Service) -> None:
    conversation = await a_conversation(service)
    path = f"/conversations/{conversation}/presence"
    beat = await service.http.post(path, json={"state": "viewing"}, headers=service.headers())
    assert beat.status_code == 200 and beat.json()["state"] == "viewing"
    await service.http.post(path, json={"state": "viewing"}, headers=service.headers())
    assert len(service.events("inbox.presence.changed")) == 1  # the second beat was absorbed
    await service.http.post(path, json={"state": "composing"}, headers=service.headers())
    here = (await service.http.get(path, headers=service.headers("agent-2"))).json()
    assert [(p["agent_id"], p["state"]) for p in here] == [("agent-1", "composing")]
    assert len(service.events("inbox.presence.changed")) == 2

    async def nobody() -> bool:
        response = await service.http.get(path, headers=service.headers("agent-2"))
        return response.json() == []

    await until(nobody, "the indicator expires", within=3.0)


async def test_leaving_ends_the_indicator_at_once(service: Service) -> None:
    conversation = await a_conversation(service)
    path = f"/conversations/{conversation}/presence"
    await service.http.post(path, json={"state": "composing"}, headers=service.headers())
    await service.http.post(path, json={"state": "left"}, headers=service.headers())
    assert (await service.http.get(path, headers=service.headers())).json() == []
    states = [e["data"]["state"] for e in service.events("inbox.presence.changed")]
    assert states == ["composing", "left"]


async def test_a_heartbeat_elsewhere_is_not_found(service: Service) -> None:
    conversation = await a_conversation(service)
    response = await service.http.post(
        f"/conversations/{conversation}/presence",
        json={"state": "viewing"},
        headers=token_for(random_ref("ws")),
    )
    assert response.status_code == 404
    bad = await service.http.post(
        f"/conversations/{conversation}/presence",
        json={"state": "typing"},
        headers=service.headers(),
    )
    assert bad.status_code == 422


async def test_a_resume_from_before_what_the_replica_holds_is_read_back_from_the_topic(
    service: Service,
) -> None:
    await a_conversation(service)  # the replica began reading at offset 1 (0 is the inbound)
    earlier = {"id": "e-0", "type": "inbox.note.added", "workspaceid": service.workspace}
    service.reader.records = [(0, 0, json.dumps(earlier).encode())]

    async def nothing() -> None:
        return None

    token = {"Authorization": f"Bearer {short_token(service)}"}
    events = await stream_while(service, nothing, headers=token | {"Last-Event-ID": "v1:0-0"})
    kinds = [e["event"] for e in events if e["event"] != "keepalive"]
    assert kinds == [
        "ready",
        "inbox.note.added",  # read back from Kafka
        "inbox.message.received",  # then the replica's buffer
        "inbox.conversation.opened",
        "inbox.conversation.updated",
        "token_expired",
    ]
    assert '"resumed":true' in events[0]["data"] and events[1]["id"] == "v1:0-1"
    assert service.reader.asked == [({0: 0}, {0: 1})]


async def test_a_resume_too_far_back_starts_with_a_reset(service: Service) -> None:
    await a_conversation(service)

    async def nothing() -> None:
        return None

    token = {"Authorization": f"Bearer {short_token(service)}"}
    events = await stream_while(service, nothing, headers=token | {"Last-Event-ID": "v1:0-0"})
    assert events[0]["event"] == "reset" and '"resumed":false' in events[0]["data"]
    assert {e["event"] for e in events[1:]} == {"keepalive", "token_expired"}
