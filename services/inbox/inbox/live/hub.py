"""Live updates in one replica: recent inbox events per workspace, connected clients, resumption.

Every replica reads all of inbox.events.v1 (a group of its own), so a Kafka position
(partition, offset) names the same event on every replica. An event's SSE id is the replica's
positions after it, `v1:<partition>-<next offset>.…`: a client resuming with it on any replica is
sent exactly the workspace's events at or past those positions.
"""

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from hanout_shared.contracts.inbox import PresenceChanged
from inbox.live.presence import PresenceBoard

PREFIX = "v1:"
Positions = dict[int, int]


def encode_cursor(positions: Positions) -> str:
    return PREFIX + ".".join(f"{p}-{o}" for p, o in sorted(positions.items()))


def decode_cursor(text: str | None) -> Positions | None:
    """None for anything this server did not give out."""
    if not text or not text.startswith(PREFIX):
        return None
    found: Positions = {}
    for pair in filter(None, text[len(PREFIX) :].split(".")):
        partition, _, offset = pair.partition("-")
        if not (partition.isdigit() and offset.isdigit()) or len(found) > 10_000:
            return None
        found[int(partition)] = int(offset)
    return found


def sse(event: str, data: str, cursor: str) -> str:
    """One Server-Sent Event; `data` is one line of JSON (no raw newlines)."""
    return f"id: {cursor}\nevent: {event}\ndata: {data}\n\n"


@dataclass(frozen=True)
class Entry:
    partition: int
    offset: int
    event_id: str
    frame: str
    at: float


@dataclass(eq=False)
class Client:
    """One open stream. It skips what its resume position says it has already seen."""

    workspace_id: str
    floor: Positions
    queue: asyncio.Queue[str]
    dropped: bool = False

    def push(self, entry: Entry) -> None:
        if self.dropped or entry.offset < self.floor.get(entry.partition, 0):
            return
        try:
            self.queue.put_nowait(entry.frame)
        except asyncio.QueueFull:
            # Too slow to keep up: its stream ends once what is queued is sent, and it resumes
            # from its last id, from the buffer.
            self.dropped = True


@dataclass
class WorkspaceLog:
    entries: deque[Entry]
    evicted: Positions = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def append(self, entry: Entry) -> None:
        if len(self.entries) == self.entries.maxlen:
            self._evict(self.entries[0])
        self.entries.append(entry)
        self.ids.add(entry.event_id)

    def _evict(self, entry: Entry) -> None:
        self.ids.discard(entry.event_id)
        kept = self.evicted.get(entry.partition, 0)
        self.evicted[entry.partition] = max(kept, entry.offset + 1)

    def forget_before(self, at: float) -> None:
        while self.entries and self.entries[0].at < at:
            self._evict(self.entries.popleft())

    def since(self, floor: Positions) -> list[Entry]:
        return [e for e in self.entries if e.offset >= floor.get(e.partition, 0)]


@dataclass(frozen=True)
class Subscription:
    client: Client
    cursor: str  # where the client stands once the backlog is sent
    backlog: list[str]
    resumed: bool
    gap: bool  # some events it missed are no longer here: it must reload


class Hub:
    def __init__(
        self,
        *,
        per_workspace: int = 1000,
        max_age_s: float = 600.0,
        client_queue: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        readiness: Callable[[], Awaitable[Positions]] | None = None,
    ) -> None:
        self._per_workspace, self._max_age_s = per_workspace, max_age_s
        self._client_queue, self._clock = client_queue, clock
        self.positions: Positions = {}
        self.began: Positions = {}
        self.horizon: Positions = {}  # per partition: events below were forgotten (too old)
        self._logs: dict[str, WorkspaceLog] = {}
        self._clients: dict[str, set[Client]] = {}
        self._readiness = readiness
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()  # set once this replica reads the topic live
        self.presence = PresenceBoard()

    def mark_start(self, partition: int, offset: int) -> None:
        """This replica reads every record of the partition from `offset` on (its group starts
        at the end of the topic: where it stood once assigned, or the first record it read)."""
        self.began[partition] = min(self.began.get(partition, offset), offset)

    def complete_from(self, workspace_id: str) -> Positions:
        """Per partition, the offset from which every event of the workspace is held here."""
        log = self._logs.get(workspace_id)
        evicted = log.evicted if log else {}
        return {p: max(o, evicted.get(p, 0), self.horizon.get(p, 0)) for p, o in self.began.items()}

    def replayed(self, floor: Positions, records: list[tuple[int, int, bytes]]) -> list[str]:
        """Frames for records read back from the topic, each id a cursor just past it."""
        cursor, frames, ids = dict(floor), [], set()
        for partition, offset, body in records:
            event = json.loads(body)
            cursor[partition] = offset + 1
            if event["id"] in ids:
                continue
            ids.add(event["id"])
            data = body.decode() if b"\n" not in body else json.dumps(event, ensure_ascii=False)
            frames.append(sse(str(event["type"]), data, encode_cursor(cursor)))
        return frames

    def receive(self, partition: int, offset: int, body: bytes) -> bool:
        """Take one record of inbox.events.v1; False for one already taken (a redelivery)."""
        if offset < self.positions.get(partition, 0):
            return False
        self.mark_start(partition, offset)
        self.positions[partition] = offset + 1
        try:
            event = json.loads(body)
            workspace_id, kind, event_id = (str(event[k]) for k in ("workspaceid", "type", "id"))
        except (ValueError, KeyError, TypeError):
            return True  # not an event: nothing to show, the position still moves on
        log = self._log(workspace_id)
        if event_id in log.ids:
            return True  # a cause handled twice publishes the same event again: shown once
        if kind == "inbox.presence.changed":
            self._presence(workspace_id, event.get("data"))
        data = body.decode() if b"\n" not in body else json.dumps(event, ensure_ascii=False)
        frame = sse(kind, data, encode_cursor(self.positions))
        entry = Entry(partition, offset, event_id, frame, self._clock())
        log.append(entry)
        for client in self._clients.get(workspace_id, ()):
            client.push(entry)
        return True

    def _presence(self, workspace_id: str, data: object) -> None:
        try:
            self.presence.apply(workspace_id, PresenceChanged.model_validate(data))
        except ValidationError:
            return

    def _log(self, workspace_id: str) -> WorkspaceLog:
        if (log := self._logs.get(workspace_id)) is None:
            log = self._logs[workspace_id] = WorkspaceLog(deque(maxlen=self._per_workspace))
        return log

    def covers(self, workspace_id: str, floor: Positions) -> bool:
        """Whether every event of the workspace from `floor` on is still here."""
        log = self._logs.get(workspace_id)
        evicted = log.evicted if log else {}
        for partition in self.positions.keys() | floor.keys():
            offset = floor.get(partition, 0)
            started = self.began.get(partition)
            if started is None or started > offset:
                return False
            if max(self.horizon.get(partition, 0), evicted.get(partition, 0)) > offset:
                return False
        return True

    def subscribe(self, workspace_id: str, resume_from: str | None) -> Subscription:
        floor = decode_cursor(resume_from)
        resumed = floor is not None and self.covers(workspace_id, floor)
        backlog: list[str] = []
        start = dict(self.positions)
        if floor is not None and resumed:
            log = self._logs.get(workspace_id)
            backlog = [entry.frame for entry in log.since(floor)] if log else []
            # a client coming from a replica ahead of this one skips what it has seen there
            start = {p: max(o, floor.get(p, 0)) for p, o in start.items()} | {
                p: o for p, o in floor.items() if p not in start
            }
        client = Client(workspace_id, start, asyncio.Queue(self._client_queue))
        self._clients.setdefault(workspace_id, set()).add(client)
        gap = floor is not None and not resumed
        return Subscription(client, encode_cursor(start), backlog, resumed, gap)

    def cursor_for(self, client: Client) -> str:
        """Where an idle client stands: everything of its workspace before it was pushed."""
        return encode_cursor(
            self.positions | {p: o for p, o in client.floor.items() if o > self.positions.get(p, 0)}
        )

    def unsubscribe(self, client: Client) -> None:
        clients = self._clients.get(client.workspace_id, set())
        clients.discard(client)
        if not clients:
            self._clients.pop(client.workspace_id, None)

    def connected(self) -> int:
        return sum(len(clients) for clients in self._clients.values())

    def prune(self) -> None:
        """Forget events older than the replay window, and presence that has expired."""
        oldest = self._clock() - self._max_age_s
        for workspace_id, log in list(self._logs.items()):
            log.forget_before(oldest)
            if not log.entries and workspace_id not in self._clients:
                # offsets arrive in order: what it forgot by age, every workspace forgot
                for partition, offset in log.evicted.items():
                    self.horizon[partition] = max(self.horizon.get(partition, 0), offset)
                del self._logs[workspace_id]
        self.presence.prune()

    async def start(self, every_s: float = 30.0) -> None:
        self._tasks = [
            asyncio.create_task(self._prune_every(every_s)),
            asyncio.create_task(self._become_ready()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _become_ready(self) -> None:
        if self._readiness is not None:
            for partition, offset in (await self._readiness()).items():
                self.mark_start(partition, offset)
                # Cursors name every partition from now on (a resume elsewhere then knows where
                # to read from); one below, as the record just before may still be in flight.
                self.positions.setdefault(partition, max(0, offset - 1))
        self.ready.set()

    async def _prune_every(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.prune()
