"""HTTP routes of live work: the Server-Sent Events stream, and composing/viewing heartbeats."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from hanout_shared.contracts.inbox import PresenceChanged, PresenceChangedEvent
from hanout_shared.platform.auth import Agent, Authenticator, Principal
from hanout_shared.platform.errors import ApiError, ErrorBody
from hanout_shared.platform.kafka import publish_event
from inbox.deps import InboxDep, actor
from inbox.kafka import inbox_events
from inbox.live.hub import Hub, Subscription, decode_cursor, encode_cursor, sse
from inbox.live.presence import State
from inbox.live.replay import TopicReader
from inbox.values import SOURCE, Person

router = APIRouter(tags=["live"])
RETRY_MS = 2000
READY_WAIT_S = 15.0
BATCH = 200
# After a first event, how long a stream waits for more before writing: a burst goes out in a
# few writes, not one per event (and what comes while a write is in flight joins the next).
LINGER_S = 0.005


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: State


class StreamAgent:
    """The agent behind a stream, from the bearer header or, for EventSource (which cannot set
    headers), from `access_token`; the stream ends when the token expires."""

    def __init__(
        self,
        request: Request,
        access_token: Annotated[
            str | None, Query(description="The bearer token, for clients that cannot set headers")
        ] = None,
    ) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        self.token = credentials if scheme.lower() == "bearer" and credentials else access_token
        self.authenticator: Authenticator = request.app.state.authenticator

    async def verify(self) -> tuple[Principal, float]:
        if not self.token:
            raise ApiError(
                401,
                "missing_token",
                "A bearer token (header or access_token) is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await self.authenticator.verify(self.token)
        claims = jwt.decode(self.token, options={"verify_signature": False})
        return principal, float(claims["exp"])


async def _frames(
    hub: Hub, subscription: Subscription, opening: str, keepalive_s: float, expires_at: float
) -> AsyncIterator[str]:
    client = subscription.client
    try:
        yield f"retry: {RETRY_MS}\n\n" + opening
        backlog = subscription.backlog
        for start in range(0, len(backlog), BATCH):
            yield "".join(backlog[start : start + BATCH])
        while (left := expires_at - time.time()) > 0:
            if client.dropped and client.queue.empty():
                return  # too slow: the client resumes from its last id
            try:
                live = [await asyncio.wait_for(client.queue.get(), min(keepalive_s, left))]
            except TimeoutError:
                yield sse("keepalive", "{}", hub.cursor_for(client))
                continue
            if client.queue.empty():
                await asyncio.sleep(LINGER_S)
            while not client.queue.empty() and len(live) < BATCH:  # one write for a burst
                live.append(client.queue.get_nowait())
            yield "".join(live)
        yield sse("token_expired", "{}", hub.cursor_for(client))
    finally:
        hub.unsubscribe(client)


async def _bridge(
    hub: Hub, reader: TopicReader, workspace_id: str, resume: str, gap: Subscription
) -> Subscription:
    """A resume from before what this replica holds (it restarted, or the client was away
    long): what is missing is read back from the topic, then the replica's buffer follows."""
    floor = decode_cursor(resume) or {}
    held = hub.complete_from(workspace_id)
    records = await reader.read(workspace_id, floor, held)
    if records is None:
        return gap  # too far back: the client reloads
    hub.unsubscribe(gap.client)
    bridge = {p: max(floor.get(p, 0), held.get(p, 0)) for p in floor.keys() | held.keys()}
    joined = hub.subscribe(workspace_id, encode_cursor(bridge))
    if joined.gap:
        return joined
    backlog = hub.replayed(floor, records) + joined.backlog
    return Subscription(joined.client, joined.cursor, backlog, resumed=True, gap=False)


def _opening(hub: Hub, subscription: Subscription, workspace_id: str) -> str:
    now = datetime.now(UTC)
    presence = [p.model_dump(mode="json") for p in hub.presence.workspace(workspace_id, now)]
    data = {"cursor": subscription.cursor, "resumed": subscription.resumed, "presence": presence}
    kind = "reset" if subscription.gap else "ready"
    return sse(kind, json.dumps(data, separators=(",", ":")), subscription.cursor)


@router.get(
    "/stream",
    summary="Live updates of the workspace (Server-Sent Events); resume with Last-Event-ID",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "One event per inbox event"},
        401: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)
async def stream(
    inbox: InboxDep,
    who: Annotated[StreamAgent, Depends(StreamAgent)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    resume: Annotated[str | None, Query(description="Last-Event-ID, for a first connect")] = None,
) -> StreamingResponse:
    """`ready` first (the cursor and who is present now), or `reset` when events missed since
    the given id are no longer kept (reload, then carry on); then every inbox event of the
    workspace, its CloudEvent as data and its type as event name; `keepalive` when idle."""
    agent, expires_at = await who.verify()
    hub = inbox.hub
    try:  # a replica just started: its live consumer is joining (a second or so)
        await asyncio.wait_for(hub.ready.wait(), READY_WAIT_S)
    except TimeoutError as exc:
        raise ApiError(503, "live_not_ready", "Live updates are starting; retry shortly") from exc
    await inbox.store.agents.seen(
        agent.workspace_id, Person(id=agent.agent_id, name=agent.name), datetime.now(UTC)
    )
    resume_from = last_event_id or resume
    subscription = hub.subscribe(agent.workspace_id, resume_from)
    if subscription.gap and resume_from:
        subscription = await _bridge(
            hub, inbox.topic_reader, agent.workspace_id, resume_from, subscription
        )
    opening = _opening(hub, subscription, agent.workspace_id)
    return StreamingResponse(
        _frames(hub, subscription, opening, inbox.keepalive_s, expires_at),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _heartbeat(agent: Principal, conversation_id: str, state: State, ttl: timedelta) -> Any:
    data = PresenceChanged(
        conversation_id=conversation_id,
        agent_id=agent.agent_id,
        agent_name=agent.name,
        state=state,
        expires_at=datetime.now(UTC) + ttl,
    )
    return PresenceChangedEvent.create(
        source=SOURCE,
        workspaceid=agent.workspace_id,
        subject=conversation_id,
        data=data,
        **actor(agent),
    )


@router.post(
    "/conversations/{conversation_id}/presence",
    summary="Heartbeat: I am viewing or composing here (every few seconds), or I left",
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def heartbeat(
    conversation_id: str, body: Heartbeat, agent: Agent, inbox: InboxDep
) -> PresenceChanged:
    row, ttl = await inbox.conversation(agent, conversation_id), inbox.presence_ttl
    board, now = inbox.hub.presence, datetime.now(UTC)
    if not board.due(agent.workspace_id, row.id, agent.agent_id, body.state, now, ttl):
        kept = board.get(agent.workspace_id, row.id, agent.agent_id)
        if kept is not None:
            return kept
    event = _heartbeat(agent, row.id, body.state, ttl)
    try:
        await asyncio.wait_for(publish_event(inbox_events, event), inbox.publish_timeout_s)
    except Exception as exc:  # presence is ephemeral: the next heartbeat tries again
        raise ApiError(503, "kafka_unavailable", "The heartbeat could not be shared") from exc
    presence: PresenceChanged = event.data
    board.apply(agent.workspace_id, presence)
    return presence


@router.get(
    "/conversations/{conversation_id}/presence",
    summary="Who is viewing or composing this conversation now",
    responses={404: {"model": ErrorBody}},
)
async def who_is_here(conversation_id: str, agent: Agent, inbox: InboxDep) -> list[PresenceChanged]:
    row = await inbox.conversation(agent, conversation_id)
    return inbox.hub.presence.on(agent.workspace_id, row.id, datetime.now(UTC))
