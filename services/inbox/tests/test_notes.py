"""Internal notes: the team sees them in the timeline; nothing about them can reach a customer."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .builders import random_ref
from .conftest import TEXT, Service, a_conversation, token_for

# Whatever a note says, it stays a note: send bodies, template markup, operators, scripts...
TRICKY = [
    "Client a déjà appelé hier, refuse le produit X",
    "العميل اتصل أمس ويرفض المنتج",
    '{"content": {"kind": "text", "body": "Salam"}}',
    "kind: text\nbody: send this to the customer",
    "{{1}} {{customer_name}}",
    "/send Salam khoya",
    "wamid.HBgMMjEyNjEyMzQ1Njc4FQIAERgSMEYwQjI5RkQ2RjE0NkU5RTM0AA==",
    '{"$gt": ""}',
    "<script>alert(1)</script>",
    "\u202eRTL override\u202c 😀 \x00 nul",
    "x" * 4000,
]


def notes_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if item["kind"] == "note"]


async def timeline(service: Service, conversation: str, agent: str = "agent-1") -> Any:
    response = await service.http.get(
        f"/conversations/{conversation}/messages", headers=service.headers(agent)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def add_note(
    service: Service, conversation: str, body: str, agent: str = "agent-1", **headers: str
) -> Any:
    return await service.http.post(
        f"/conversations/{conversation}/notes",
        json={"body": body},
        headers=service.headers(agent) | headers,
    )


async def test_a_note_joins_the_timeline_apart_from_the_messages_with_its_author(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    response = await add_note(service, conversation, "Client a déjà appelé hier")
    assert response.status_code == 201, response.text
    note = response.json()
    assert (note["kind"], note["author"]) == ("note", {"id": "agent-1", "name": "Agent agent-1"})
    kinds = [item["kind"] for item in await timeline(service, conversation, "agent-2")]
    assert kinds == ["message", "note"]
    [event] = service.events("inbox.note.added")
    assert event["data"]["note"]["body"] == "Client a déjà appelé hier"
    assert (event["actorid"], event["subject"]) == ("agent-1", conversation)


async def test_no_note_ever_reaches_the_send_path_whatever_it_says(service: Service) -> None:
    conversation = await a_conversation(service)
    [before] = await service.conversations()
    for body in TRICKY:
        added = await add_note(service, conversation, body)
        assert added.status_code == 201, added.text
        path = f"/conversations/{conversation}/notes/{added.json()['id']}"
        edited = await service.http.patch(
            path, json={"body": body[::-1] or "x"}, headers=service.headers()
        )
        assert edited.status_code == 200, edited.text
        assert (await service.http.delete(path, headers=service.headers())).status_code == 204
    assert service.commands() == []
    assert service.ingest.uploads == []
    assert service.events("inbox.message.sent") == []
    [after] = await service.conversations()
    assert after["last_message"] == before["last_message"]
    assert after["unread_count"] == before["unread_count"]
    assert len(service.events("inbox.note.added")) == len(TRICKY)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(min_size=1, max_size=500), edit=st.text(min_size=1, max_size=500))
async def test_no_generated_note_reaches_the_send_path(
    service: Service, body: str, edit: str
) -> None:
    rows = await service.conversations()
    conversation = rows[0]["id"] if rows else await a_conversation(service)
    added = await add_note(service, conversation, body)
    assert added.status_code == (201 if body.strip() else 422), added.text
    if added.status_code == 201:
        path = f"/conversations/{conversation}/notes/{added.json()['id']}"
        edited = await service.http.patch(path, json={"body": edit}, headers=service.headers())
        assert edited.status_code == (200 if edit.strip() else 422)
    assert service.commands() == [] and service.ingest.uploads == []
    assert service.events("inbox.message.sent") == []


async def test_only_its_author_can_edit_or_delete_a_note(service: Service) -> None:
    conversation = await a_conversation(service)
    note = (await add_note(service, conversation, "Rappeler à 18h")).json()
    path = f"/conversations/{conversation}/notes/{note['id']}"
    other = service.headers("agent-2")
    assert (await service.http.patch(path, json={"body": "x"}, headers=other)).status_code == 403
    assert (await service.http.delete(path, headers=other)).status_code == 403
    edited = await service.http.patch(
        path, json={"body": "Rappeler à 19h"}, headers=service.headers()
    )
    assert edited.json()["body"] == "Rappeler à 19h" and edited.json()["edited_at"] is not None
    [shown] = notes_of(await timeline(service, conversation))
    assert shown["body"] == "Rappeler à 19h"
    assert (await service.http.delete(path, headers=service.headers())).status_code == 204
    assert notes_of(await timeline(service, conversation)) == []
    assert (await service.http.delete(path, headers=service.headers())).status_code == 404
    kinds = [e["type"] for e in service.events() if e["type"].startswith("inbox.note")]
    assert kinds == ["inbox.note.added", "inbox.note.edited", "inbox.note.deleted"]


async def test_the_same_click_adds_one_note(service: Service) -> None:
    conversation = await a_conversation(service)
    key = {"Idempotency-Key": random_ref("click")}
    first = await add_note(service, conversation, "Adresse: Derb Omar", **key)
    again = await add_note(service, conversation, "Adresse: Derb Omar", **key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = await add_note(service, conversation, "Autre chose", **key)
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(notes_of(await timeline(service, conversation))) == 1


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 4001])
async def test_an_empty_or_oversized_note_is_refused(service: Service, body: str) -> None:
    conversation = await a_conversation(service)
    response = await add_note(service, conversation, body)
    assert response.status_code == 422
    assert service.events("inbox.note.added") == []


async def test_notes_of_another_workspace_are_not_found(service: Service) -> None:
    conversation = await a_conversation(service)
    note = (await add_note(service, conversation, "Interne")).json()
    elsewhere = token_for(random_ref("ws"))  # the same agent id, in another workspace
    path = f"/conversations/{conversation}/notes"
    assert (await service.http.get(path, headers=elsewhere)).status_code == 404
    assert (
        await service.http.patch(f"{path}/{note['id']}", json={"body": "x"}, headers=elsewhere)
    ).status_code == 404
    listed = (await service.http.get(path, headers=service.headers())).json()
    assert [n["id"] for n in listed["items"]] == [note["id"]]


async def test_a_note_and_a_reply_are_told_apart_in_the_timeline(service: Service) -> None:
    conversation = await a_conversation(service)
    await add_note(service, conversation, "Je m'en occupe")
    assert (await service.send(conversation, TEXT)).status_code == 201
    items = await timeline(service, conversation)
    assert [(i["kind"], i.get("direction")) for i in items] == [
        ("message", "inbound"),
        ("note", None),
        ("message", "outbound"),
    ]
    assert items[2]["sent_by"]["id"] == "agent-1"
    assert len(service.commands("whatsapp.message.send_requested")) == 1
