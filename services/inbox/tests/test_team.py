"""Assignment and the activity trail: who took, passed on or freed a conversation, and orders."""

from typing import Any

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import conversation_key

from .builders import PHONE_NUMBER_ID, key_of, random_ref
from .conftest import Service, a_conversation, token_for
from .team_builders import (
    CONFIRMED,
    an_order,
    order_cancelled,
    order_created,
    stage_changed,
)


async def assign(service: Service, conversation: str, agent: str, **body: Any) -> Any:
    return await service.http.put(
        f"/conversations/{conversation}/assignee", json=body, headers=service.headers(agent)
    )


async def trail(service: Service, conversation: str) -> list[dict[str, Any]]:
    items = (await service.get(f"/conversations/{conversation}/messages"))["items"]
    return [item for item in items if item["kind"] == "activity"]


async def mine(service: Service, agent: str) -> list[str]:
    response = await service.http.get(
        "/conversations", params={"filter": "mine"}, headers=service.headers(agent)
    )
    return [row["id"] for row in response.json()["items"]]


async def test_an_agent_takes_a_conversation_and_finds_it_under_mine(service: Service) -> None:
    conversation = await a_conversation(service)
    taken = await assign(service, conversation, "agent-1", agent_id="agent-1")
    assert taken.status_code == 200, taken.text
    row = taken.json()
    assert row["assignee"] == {"id": "agent-1", "name": "Agent agent-1"}
    assert row["assigned_by"]["id"] == "agent-1" and row["assigned_at"] is not None
    assert await mine(service, "agent-1") == [conversation]
    assert await mine(service, "agent-2") == []
    counts = await service.get("/conversations/counts")
    assert counts["mine"] == 1
    [event] = service.events("inbox.conversation.assigned")
    assert event["data"]["assignee_id"] == "agent-1"
    assert event["data"]["conversation"]["assignee_id"] == "agent-1"
    [line] = await trail(service, conversation)
    assert (line["action"], line["summary"], line["by"]["id"]) == (
        "assigned",
        "took the conversation",
        "agent-1",
    )


async def test_reassigning_and_freeing_are_each_recorded_with_who_and_when(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    await assign(service, conversation, "agent-1", agent_id="agent-2", agent_name="Youssef")
    await assign(service, conversation, "agent-2", agent_id="agent-3", agent_name="Salma")
    freed = await service.http.delete(
        f"/conversations/{conversation}/assignee", headers=service.headers("agent-3")
    )
    assert freed.json()["assignee"] is None
    assert await mine(service, "agent-3") == []
    lines = [(line["by"]["id"], line["summary"]) for line in await trail(service, conversation)]
    assert lines == [
        ("agent-1", "assigned the conversation to Youssef"),
        ("agent-2", "assigned the conversation to Salma"),
        ("agent-3", "unassigned the conversation (was Salma)"),
    ]
    assigned = service.events("inbox.conversation.assigned")
    previous = [e["data"].get("previous_assignee_id") for e in assigned]
    assert previous == [None, "agent-2", "agent-3"]


async def test_assigning_the_same_agent_again_records_nothing(service: Service) -> None:
    conversation = await a_conversation(service)
    for _ in range(2):
        assert (
            await assign(service, conversation, "agent-1", agent_id="agent-1")
        ).status_code == 200
    assert len(service.events("inbox.conversation.assigned")) == 1
    assert len(await trail(service, conversation)) == 1


async def test_a_colleague_who_took_it_first_wins_when_the_assignee_was_expected(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    await assign(service, conversation, "agent-1", agent_id="agent-1", expected_assignee_id=None)
    late = await assign(
        service, conversation, "agent-2", agent_id="agent-2", expected_assignee_id=None
    )
    assert late.status_code == 409
    assert late.json()["code"] == "assignment_changed"
    assert "Agent agent-1" in late.json()["message"]
    assert await mine(service, "agent-1") == [conversation]


async def test_assignment_is_scoped_to_the_workspace(service: Service) -> None:
    conversation = await a_conversation(service)
    response = await service.http.put(
        f"/conversations/{conversation}/assignee",
        json={"agent_id": "agent-1"},
        headers=token_for(random_ref("ws")),
    )
    assert response.status_code == 404
    assert service.events("inbox.conversation.assigned") == []


async def test_an_order_created_from_the_conversation_joins_its_trail_with_creator_and_colour(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    order = an_order(service.workspace, key_of(service.workspace))
    await service.deliver(topics.ORDERS_EVENTS, order_created(service.workspace, order))
    await service.deliver(topics.ORDERS_EVENTS, stage_changed(service.workspace, order))
    created, moved = await trail(service, conversation)
    assert created["by"] == {"id": "agent-amina", "name": "Amina"}
    assert created["summary"] == "created order #1042 (398.00 MAD) · Nouvelle"
    assert (created["stage"]["name"], created["stage"]["color"]) == ("Nouvelle", "#2563eb")
    assert created["order"]["total"] == "398.00"
    assert moved["summary"] == "moved order #1042 from Nouvelle to Confirmée"
    assert moved["stage"]["color"] == CONFIRMED.color and moved["from_stage"]["name"] == "Nouvelle"
    recorded = service.events("inbox.activity.recorded")
    assert [e["data"]["activity"]["action"] for e in recorded] == [
        "order_created",
        "order_stage_changed",
    ]
    assert recorded[0]["actorname"] == "Amina" and recorded[0]["subject"] == conversation


async def test_a_redelivered_order_event_adds_no_second_line(service: Service) -> None:
    conversation = await a_conversation(service)
    created = order_created(
        service.workspace, an_order(service.workspace, key_of(service.workspace))
    )
    await service.deliver(topics.ORDERS_EVENTS, created, created)
    assert len(await trail(service, conversation)) == 1
    ids = {e["id"] for e in service.events("inbox.activity.recorded")}
    assert len(ids) == 1  # announced again with the same id: live clients drop the repeat


async def test_orders_not_from_a_conversation_or_of_another_one_stay_out(service: Service) -> None:
    conversation = await a_conversation(service)
    other_key = conversation_key(service.workspace, PHONE_NUMBER_ID, "212600000000")
    for order in (an_order(service.workspace, None), an_order(service.workspace, other_key)):
        await service.deliver(topics.ORDERS_EVENTS, order_created(service.workspace, order))
    assert await trail(service, conversation) == []


async def test_a_cancelled_order_says_why(service: Service) -> None:
    conversation = await a_conversation(service)
    order = an_order(service.workspace, key_of(service.workspace))
    await service.deliver(
        topics.ORDERS_EVENTS, order_cancelled(service.workspace, order, "injoignable")
    )
    [line] = await trail(service, conversation)
    assert line["summary"] == "cancelled order #1042: injoignable"


async def test_an_unreadable_order_event_is_dead_lettered_counted_and_skipped(
    service: Service,
) -> None:
    await service.broker.publish({"type": "orders.order.created", "id": 1}, topics.ORDERS_EVENTS)
    [letter] = service.letters
    assert (letter["data"]["topic"], letter["data"]["group"]) == (
        topics.ORDERS_EVENTS,
        "inbox-orders",
    )
    metrics = (await service.http.get("/metrics")).text
    line = 'hanout_dead_lettered_events_total{reason="invalid_event",topic="orders.events.v1"}'
    assert f"{line} 1.0" in metrics
