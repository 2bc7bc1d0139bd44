"""Sending from a conversation: one message per click, the window, templates, statuses, retries."""

import asyncio
from typing import Any

import pytest

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import SendRequestedEvent, TemplateSection
from hanout_shared.platform.outbox import outbox_entries
from inbox.conversations.model import WINDOW_CLOSED

from .builders import (
    a_template,
    key_of,
    templates_synced,
)
from .conftest import TEXT, Service, a_conversation, token_for

IMAGE = {"kind": "template", "name": "order_confirmation", "language": "fr"}


def template(**overrides: Any) -> dict[str, Any]:
    header = {"type": "header", "parameters": [{"type": "image", "media_id": "m-1"}]}
    body = {
        "type": "body",
        "parameters": [{"type": "text", "text": "Karim"}, {"type": "text", "text": "#1042"}],
    }
    return IMAGE | {"components": [header, body]} | overrides


async def test_a_reply_is_stored_pending_and_becomes_one_command(service: Service) -> None:
    conversation = await a_conversation(service)
    response = await service.send(conversation, TEXT, key="click-1")
    assert response.status_code == 201, response.text
    message = response.json()
    assert (message["status"], message["direction"], message["sent_by"]) == (
        "pending",
        "outbound",
        {"id": "agent-1", "name": "Agent agent-1"},
    )
    [command] = service.commands("whatsapp.message.send_requested")
    assert command["data"]["content"] == TEXT | {"preview_url": False}
    assert command["data"]["recipient"]["wa_id"] == "212612345678"
    assert (command["actorid"], command["subject"]) == ("agent-1", key_of(service.workspace))
    [sent] = service.events("inbox.message.sent")
    assert sent["data"]["idempotency_key"] == command["data"]["idempotency_key"]
    [row] = await service.conversations()
    assert (row["last_message"]["preview"], row["awaiting_reply"]) == (TEXT["body"], False)
    assert service.store.messages.docs[message["id"]]["outbox"] == []


async def test_a_double_click_returns_the_same_message_and_sends_once(service: Service) -> None:
    conversation = await a_conversation(service)
    first = await service.send(conversation, TEXT, key="click-1")
    again = await service.send(conversation, TEXT, key="click-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(service.commands("whatsapp.message.send_requested")) == 1
    other = await service.send(conversation, TEXT | {"body": "other"}, key="click-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


async def test_the_key_may_come_in_the_body_and_is_required(service: Service) -> None:
    conversation = await a_conversation(service)
    url, headers = f"/conversations/{conversation}/messages", service.headers()
    missing = await service.http.post(url, json={"content": TEXT}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (422, "idempotency_key_required")
    given = await service.http.post(
        url, json={"content": TEXT, "client_id": "c-9"}, headers=headers
    )
    assert given.json()["client_key"] == "c-9"


async def test_free_text_outside_the_window_is_refused_and_a_template_goes(
    service: Service,
) -> None:
    conversation = await a_conversation(service, hours_ago=25)
    await service.deliver(
        topics.WHATSAPP_TEMPLATES, templates_synced(service.workspace, a_template())
    )
    refused = await service.send(conversation, TEXT)
    assert refused.status_code == 409
    assert refused.json() == {"code": "window_closed", "message": WINDOW_CLOSED}
    media = await service.send(conversation, {"kind": "image", "media_id": "m-1"})
    assert media.status_code == 409
    assert service.commands() == []
    sent = await service.send(conversation, template())
    assert sent.status_code == 201, sent.text
    [command] = service.commands()
    assert command["data"]["content"]["name"] == "order_confirmation"


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (template(name="promo"), "template_not_found", "No template named 'promo'"),
        (template(language="ar"), "template_language_unavailable", "available: fr"),
        (template(components=[]), "template_parameters_invalid", "header needs 1 parameter"),
        (
            template(
                components=[{"type": "header", "parameters": [{"type": "video", "media_id": "v"}]}]
            ),
            "template_parameters_invalid",
            "takes image parameters, not video",
        ),
        (
            template(
                components=[
                    {"type": "header", "parameters": [{"type": "image", "media_id": "m"}]},
                    {"type": "body", "parameters": [{"type": "text", "text": "x"}]},
                ]
            ),
            "template_parameters_invalid",
            "body needs 2 parameter(s) ({{1}}, {{2}}), got 1",
        ),
        (
            template(components=[{"type": "header", "parameters": [{"type": "image"}]}]),
            "template_parameters_invalid",
            "needs the image's media_id or link",
        ),
    ],
)
async def test_a_template_that_does_not_match_the_synced_one_is_refused_naming_why(
    service: Service, content: dict[str, Any], code: str, words: str
) -> None:
    conversation = await a_conversation(service, hours_ago=25)
    await service.deliver(
        topics.WHATSAPP_TEMPLATES, templates_synced(service.workspace, a_template())
    )
    response = await service.send(conversation, content)
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert words in response.json()["message"]
    assert service.commands() == []


async def test_named_template_parameters_and_url_buttons_are_checked(service: Service) -> None:
    named = a_template(
        name="shipped",
        parameter_format="NAMED",
        sections=[
            TemplateSection(type="BODY", text="Salam {{first_name}}, colis {{tracking}} f tri9."),
            TemplateSection(type="BUTTONS", buttons=[{"type": "URL", "url": "https://t.ma/{{1}}"}]),
        ],
    )
    conversation = await a_conversation(service)
    await service.deliver(topics.WHATSAPP_TEMPLATES, templates_synced(service.workspace, named))
    body = {
        "type": "body",
        "parameters": [
            {"type": "text", "text": "Karim", "parameter_name": "first_name"},
            {"type": "text", "text": "TR-1", "parameter_name": "tracking"},
        ],
    }
    content = {"kind": "template", "name": "shipped", "language": "fr", "components": [body]}
    missing = await service.send(conversation, content)
    assert "button 0 (url) needs 1 parameter" in missing.json()["message"]
    button = {
        "type": "button",
        "sub_type": "url",
        "index": 0,
        "parameters": [{"type": "text", "text": "TR-1"}],
    }
    assert (
        await service.send(conversation, content | {"components": [body, button]})
    ).status_code == 201


async def test_media_needs_a_media_id_or_a_link(service: Service) -> None:
    conversation = await a_conversation(service)
    response = await service.send(conversation, {"kind": "image", "caption": "hadi"})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_media")
    ok = await service.send(
        conversation, {"kind": "document", "link": "https://cdn.ma/f.pdf", "filename": "f.pdf"}
    )
    assert ok.json()["attachments"][0]["link"] == "https://cdn.ma/f.pdf"


async def test_a_reply_quotes_a_message_of_the_conversation(service: Service) -> None:
    conversation = await a_conversation(service)
    [message] = (await service.get(f"/conversations/{conversation}/messages"))["items"]
    sent = await service.send(conversation, TEXT, reply_to_message_id=message["id"])
    assert sent.json()["reply_to_wamid"] == message["wamid"]
    [command] = service.commands()
    assert command["data"]["reply_to_wamid"] == message["wamid"]
    wrong = await service.send(conversation, TEXT, reply_to_message_id="nope")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_reply_target")


async def test_sending_into_another_workspaces_conversation_is_404(service: Service) -> None:
    conversation = await a_conversation(service)
    headers = {"Idempotency-Key": "k"} | token_for("another-workspace")
    response = await service.http.post(
        f"/conversations/{conversation}/messages", json={"content": TEXT}, headers=headers
    )
    assert response.status_code == 404


async def test_a_send_kafka_did_not_take_is_published_by_the_sweep(service: Service) -> None:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    doc = service.store.messages.docs[message["id"]]
    [command] = service.commands()
    lost = SendRequestedEvent.model_validate(command)
    # as if the process died between the write and the publish
    doc["outbox"] = outbox_entries(topics.WHATSAPP_OUTBOUND, [lost])
    assert await service.relay.sweep(settled_s=0) == 0
    commands = service.commands("whatsapp.message.send_requested")
    assert [c["id"] for c in commands] == [command["id"], command["id"]]
    assert doc["outbox"] == [] and await service.relay.sweep(settled_s=0) == 0
    assert len(service.commands()) == 2


async def test_publishes_of_one_send_at_once_send_its_command_once(service: Service) -> None:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    [command] = service.commands()
    lost = outbox_entries(topics.WHATSAPP_OUTBOUND, [SendRequestedEvent.model_validate(command)])
    service.store.messages.docs[message["id"]]["outbox"] = lost
    outbox: Any = service.store.messages.outbox
    published = await asyncio.gather(
        *[service.relay.publish(outbox, message["id"]) for _ in range(3)]
    )
    assert published == [True] * 3
    assert [c["id"] for c in service.commands()] == [command["id"], command["id"]]
    assert await outbox.pending(message["id"]) == []
