"""The live hub and the presence board, fed Kafka records by hand (pure, no broker)."""

import json
import time
from datetime import timedelta
from typing import Any

from hanout_shared.contracts.inbox import PresenceChanged
from inbox.live.api import _frames
from inbox.live.hub import Hub, decode_cursor, encode_cursor
from inbox.live.presence import PresenceBoard

from .builders import now


def record(workspace: str, n: int, kind: str = "inbox.note.added", **data: Any) -> bytes:
    event = {"id": f"event-{workspace}-{n}", "type": kind, "workspaceid": workspace, "data": data}
    return json.dumps(event).encode()


def frames(queue_items: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    parsed = []
    for frame in queue_items:
        fields = dict(line.split(": ", 1) for line in frame.strip().split("\n"))
        parsed.append((fields["id"], fields["event"], json.loads(fields["data"])))
    return parsed


def drain(hub: Hub, client: Any) -> list[str]:
    found = []
    while not client.queue.empty():
        found.append(client.queue.get_nowait())
    return found


def test_a_cursor_reads_back_and_anything_else_is_refused() -> None:
    assert decode_cursor(encode_cursor({0: 12, 3: 7})) == {0: 12, 3: 7}
    assert decode_cursor(encode_cursor({})) == {}
    for bad in (None, "", "12", "v1:a-b", "v1:0-", "v2:0-1", "v1:0-1.-3"):
        assert decode_cursor(bad) is None


def test_a_client_gets_its_workspace_events_each_with_an_id() -> None:
    hub = Hub()
    mine = hub.subscribe("ws-a", None).client
    hub.receive(0, 10, record("ws-a", 1))
    hub.receive(1, 4, record("ws-b", 2))
    hub.receive(1, 5, record("ws-a", 3, kind="inbox.conversation.assigned"))
    got = frames(drain(hub, mine))
    assert [(kind, data["id"]) for _, kind, data in got] == [
        ("inbox.note.added", "event-ws-a-1"),
        ("inbox.conversation.assigned", "event-ws-a-3"),
    ]
    assert [decode_cursor(cursor) for cursor, _, _ in got] == [{0: 11}, {0: 11, 1: 6}]


def test_a_client_resuming_with_its_last_id_gets_exactly_what_it_missed() -> None:
    hub = Hub()
    client = hub.subscribe("ws", None).client
    for offset in range(3):
        hub.receive(0, offset, record("ws", offset))
    last_id = frames(drain(hub, client))[1][0]  # it saw 0 and 1, then the connection dropped
    hub.unsubscribe(client)
    hub.receive(0, 3, record("ws", 3))
    resumed = hub.subscribe("ws", last_id)
    assert resumed.resumed and not resumed.gap
    assert [data["id"] for _, _, data in frames(resumed.backlog)] == ["event-ws-2", "event-ws-3"]
    hub.receive(0, 4, record("ws", 4))
    assert [data["id"] for _, _, data in frames(drain(hub, resumed.client))] == ["event-ws-4"]


def test_a_client_resumes_on_another_replica_that_read_the_partitions_in_another_order() -> None:
    first, second = Hub(), Hub()
    records = [(0, 0, record("ws", 0)), (1, 0, record("ws", 1)), (0, 1, record("ws", 2))]
    client = first.subscribe("ws", None).client
    for partition, offset, body in records[:2]:
        first.receive(partition, offset, body)
    seen = frames(drain(first, client))
    for partition, offset, body in [records[1], records[0], records[2]]:
        second.receive(partition, offset, body)
    elsewhere = second.subscribe("ws", seen[-1][0])
    assert [data["id"] for _, _, data in frames(elsewhere.backlog)] == ["event-ws-2"]
    third = (1, 1, record("ws", 3))
    second.receive(*third)
    assert [data["id"] for _, _, data in frames(drain(second, elsewhere.client))] == ["event-ws-3"]


def test_a_replica_behind_the_client_holds_back_what_the_client_saw_elsewhere() -> None:
    ahead, behind = Hub(), Hub()
    client = ahead.subscribe("ws", None).client
    for offset in range(2):
        ahead.receive(0, offset, record("ws", offset))
    last_id = frames(drain(ahead, client))[-1][0]
    behind.receive(0, 0, record("ws", 0))
    resumed = behind.subscribe("ws", last_id)
    assert resumed.backlog == []
    behind.receive(0, 1, record("ws", 1))
    behind.receive(0, 2, record("ws", 2))
    assert [data["id"] for _, _, data in frames(drain(behind, resumed.client))] == ["event-ws-2"]


def test_a_resume_older_than_the_buffer_asks_the_client_to_reload() -> None:
    hub = Hub(per_workspace=2)
    client = hub.subscribe("ws", None).client
    hub.receive(0, 0, record("ws", 0))
    last_id = frames(drain(hub, client))[0][0]
    for offset in range(1, 5):
        hub.receive(0, offset, record("ws", offset))
    later = hub.subscribe("ws", last_id)
    assert later.gap and not later.resumed and later.backlog == []
    assert hub.subscribe("ws", "v1:0-3").resumed  # still held from offset 3 on


def test_a_resume_from_before_this_replica_started_is_a_gap() -> None:
    hub = Hub()
    hub.receive(0, 50, record("ws", 50))
    assert hub.subscribe("ws", "v1:0-40").gap
    assert hub.subscribe("ws", "v1:0-50").resumed


def test_events_older_than_the_replay_window_are_forgotten() -> None:
    clock = [0.0]
    hub = Hub(max_age_s=10, clock=lambda: clock[0])
    hub.receive(0, 0, record("ws", 0))
    clock[0] = 11
    hub.receive(0, 1, record("other", 1))
    hub.prune()
    assert hub.subscribe("ws", "v1:0-0").gap
    assert hub.subscribe("ws", "v1:0-1").resumed


def test_a_client_too_slow_to_keep_up_is_ended_and_resumes_from_the_buffer() -> None:
    hub = Hub(client_queue=10)
    slow = hub.subscribe("ws", None).client
    for offset in range(15):
        hub.receive(0, offset, record("ws", offset))
    queued = frames(drain(hub, slow))
    assert slow.dropped
    assert [data["id"] for _, _, data in queued] == [f"event-ws-{n}" for n in range(10)]
    resumed = hub.subscribe("ws", queued[-1][0])
    assert resumed.resumed
    got = [data["id"] for _, _, data in frames(resumed.backlog)]
    assert got == [f"event-ws-{n}" for n in range(10, 15)]


def test_a_redelivered_record_or_a_republished_event_is_shown_once() -> None:
    hub = Hub()
    client = hub.subscribe("ws", None).client
    assert hub.receive(0, 0, record("ws", 0))
    assert not hub.receive(0, 0, record("ws", 0))
    hub.receive(0, 1, record("ws", 0))  # the same event again, later on the topic
    hub.receive(0, 2, record("ws", 1))
    assert [data["id"] for _, _, data in frames(drain(hub, client))] == ["event-ws-0", "event-ws-1"]
    assert hub.cursor_for(client) == "v1:0-3"


def test_a_keepalive_cursor_moves_past_other_workspaces_events() -> None:
    hub = Hub()
    client = hub.subscribe("ws", None).client
    hub.receive(0, 0, record("other", 0))
    assert hub.cursor_for(client) == "v1:0-1"


def presence(agent: str, state: str, seconds: float, conversation: str = "c1") -> PresenceChanged:
    return PresenceChanged(
        conversation_id=conversation,
        agent_id=agent,
        agent_name=agent.title(),
        state=state,
        expires_at=now() + timedelta(seconds=seconds),
    )


def test_presence_expires_on_its_own_and_leaving_ends_it_at_once() -> None:
    board, at = PresenceBoard(), now()
    board.apply("ws", presence("amina", "composing", 5))
    board.apply("ws", presence("youssef", "viewing", 5))
    assert [(p.agent_id, p.state) for p in board.on("ws", "c1", at)] == [
        ("amina", "composing"),
        ("youssef", "viewing"),
    ]
    assert board.on("other-ws", "c1", at) == []
    board.apply("ws", presence("youssef", "left", 5))
    assert [p.agent_id for p in board.on("ws", "c1", at)] == ["amina"]
    assert board.on("ws", "c1", at + timedelta(seconds=6)) == []
    board.prune(at + timedelta(seconds=6))
    assert board.workspace("ws", at) == []


def test_a_heartbeat_is_shared_only_when_its_state_changes_or_half_its_life_is_gone() -> None:
    board, at, ttl = PresenceBoard(), now(), timedelta(seconds=8)
    assert board.due("ws", "c1", "amina", "viewing", at, ttl)
    board.apply("ws", presence("amina", "viewing", 8))
    assert not board.due("ws", "c1", "amina", "viewing", at + timedelta(seconds=2), ttl)
    assert board.due("ws", "c1", "amina", "composing", at + timedelta(seconds=2), ttl)
    assert board.due("ws", "c1", "amina", "viewing", at + timedelta(seconds=5), ttl)
    assert board.due("ws", "c1", "amina", "left", at, ttl)


async def test_once_ready_every_cursor_names_every_partition_the_replica_reads() -> None:
    async def assigned() -> dict[int, int]:
        return {0: 5, 1: 7}

    hub = Hub(readiness=assigned)
    await hub.start()
    await hub.ready.wait()
    await hub.stop()
    hub.receive(0, 4, record("ws", 4))  # the record that was in flight is still shown
    subscription = hub.subscribe("ws", None)
    assert decode_cursor(subscription.cursor) == {0: 5, 1: 6}
    assert hub.complete_from("ws") == {0: 4, 1: 7}


async def test_a_burst_reaches_a_stream_in_one_write_in_order_while_a_slow_one_is_let_go() -> None:
    hub = Hub(client_queue=20)
    fast, slow = hub.subscribe("ws", None), hub.subscribe("ws", None)  # slow never reads
    writes = _frames(hub, fast, "opening\n\n", keepalive_s=30, expires_at=time.time() + 60)
    assert (await anext(writes)).endswith("opening\n\n")
    for burst in (range(0, 15), range(15, 30)):
        for offset in burst:
            hub.receive(0, offset, record("ws", offset))
        written = await anext(writes)  # one write for the whole burst
        assert [data["id"] for _, _, data in frames(written.split("\n\n")[:-1])] == [
            f"event-ws-{n}" for n in burst
        ]
    assert slow.client.dropped and not fast.client.dropped
    await writes.aclose()
    assert hub.connected() == 1
