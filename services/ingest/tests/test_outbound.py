"""Outbound commands against the simulated Graph API: bodies, events, retries, no double send."""

import json
from typing import Any

import pytest

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import TemplatesSyncRequested, TemplatesSyncRequestedEvent

from .ingest_builders import PNID_2, a_mark_read, a_send, graph_file, random_ref
from .ingest_harness import running_ingest

TO = "212612345678"


def without_callback(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "biz_opaque_callback_data"}


def example_command(name: str) -> dict[str, Any]:
    """The content of our command that should produce graph/requests/<name>."""
    example = graph_file("requests", name)
    kind = example["type"]
    obj = example[kind]
    if kind == "text":
        return {"kind": "text", "body": obj["body"], "preview_url": obj.get("preview_url", False)}
    if kind == "template":
        return {"kind": "template", "name": obj["name"], "language": obj["language"]["code"],
                "components": [_component(c) for c in obj.get("components", [])]}  # fmt: skip
    return {"kind": kind, "media_id": obj.get("id"), "link": obj.get("link"),
            "caption": obj.get("caption"), "filename": obj.get("filename"),
            "voice": obj.get("voice", False)}  # fmt: skip


def _component(component: dict[str, Any]) -> dict[str, Any]:
    parameters = []
    for p in component["parameters"]:
        media = p.get(p["type"]) if p["type"] in ("image", "video", "document") else None
        parameters.append({"type": p["type"], "text": p.get("text"), "payload": p.get("payload"),
                           "parameter_name": p.get("parameter_name"),
                           "media_id": media and media.get("id")})  # fmt: skip
    index = int(component["index"]) if "index" in component else None
    return {"type": component["type"], "sub_type": component.get("sub_type"), "index": index,
            "parameters": parameters}  # fmt: skip


SEND_EXAMPLES = [
    "send_text.json", "send_text_preview_url.json", "send_image_by_id.json",
    "send_image_by_link.json", "send_video_by_id.json", "send_audio_by_id.json",
    "send_audio_voice_note.json", "send_document_by_id.json", "send_document_by_link.json",
    "send_sticker_by_id.json", "send_template_no_params.json", "send_template_positional.json",
    "send_template_named_header_buttons.json",
]  # fmt: skip


@pytest.mark.parametrize("name", SEND_EXAMPLES)
async def test_each_content_kind_becomes_metas_request_body(name: str) -> None:
    async with running_ingest() as ingest:
        command = a_send(ingest.workspace_id, example_command(name))
        await ingest.command(command)
        [request] = await ingest.graph_requests("messages")
        assert request["path"] == "/v25.0/110928374650192/messages" and request["bearer"]
        assert without_callback(request["body"]) == without_callback(graph_file("requests", name))
        assert request["body"]["biz_opaque_callback_data"] == command.data.idempotency_key
        [accepted] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert accepted["type"] == "whatsapp.message.accepted"
        assert accepted["data"]["wamid"].startswith("wamid.")
        assert accepted["data"]["idempotency_key"] == command.data.idempotency_key
        assert accepted["subject"] == command.data.conversation_key
        assert accepted["actorid"] == "agent-7"
        if name.startswith("send_template"):
            assert accepted["data"]["message_status"] == "accepted"


async def test_a_reply_quotes_the_message_and_a_bsuid_is_addressed_as_recipient() -> None:
    async with running_ingest() as ingest:
        reply_body = graph_file("requests", "send_text_reply_context.json")
        quoted = reply_body["context"]["message_id"]
        text = {"kind": "text", "body": reply_body["text"]["body"]}
        await ingest.command(a_send(ingest.workspace_id, text, reply_to=quoted))
        to_bsuid_body = graph_file("requests", "send_text_to_bsuid.json")
        bsuid = {"kind": "text", "body": to_bsuid_body["text"]["body"]}
        user_id = to_bsuid_body["recipient"]
        await ingest.command(a_send(ingest.workspace_id, bsuid, wa_id=None, user_id=user_id))
        reply, to_bsuid = await ingest.graph_requests("messages")
        assert without_callback(reply["body"]) == graph_file(
            "requests", "send_text_reply_context.json"
        )
        assert without_callback(to_bsuid["body"]) == graph_file(
            "requests", "send_text_to_bsuid.json"
        )
        accepted = ingest.captured.events(topics.WHATSAPP_STATUS)[1]
        assert accepted["data"]["contact"]["user_id"] == user_id


@pytest.mark.parametrize("typing", [False, True])
async def test_mark_read_tells_meta_with_an_optional_typing_indicator(typing: bool) -> None:
    async with running_ingest() as ingest:
        example = "mark_as_read_with_typing_indicator.json" if typing else "mark_as_read.json"
        wamid = graph_file("requests", example)["message_id"]
        await ingest.command(a_mark_read(ingest.workspace_id, wamid, typing))
        [request] = await ingest.graph_requests("messages")
        assert request["body"] == graph_file("requests", example)
        assert not ingest.captured.events(topics.WHATSAPP_STATUS)


async def test_a_redelivered_command_never_calls_meta_twice() -> None:
    async with running_ingest() as ingest:
        command = a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"})
        await ingest.command(command)
        await ingest.command(command)
        twin = a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"},
                      key=command.data.idempotency_key)  # fmt: skip
        await ingest.command(twin)
        assert len(await ingest.graph_requests("messages")) == 1
        events = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert [e["type"] for e in events] == ["whatsapp.message.accepted"] * 3
        assert len({e["id"] for e in events}) == 1
        assert len({e["data"]["wamid"] for e in events}) == 1
        assert ingest.metric("ingest_sends_total", outcome="duplicate") == 2


async def test_a_send_claimed_by_a_crashed_delivery_fails_as_outcome_unknown() -> None:
    async with running_ingest() as ingest:
        command = a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"})
        await ingest.store.sends.claim(ingest.workspace_id, command.data.idempotency_key, "old")
        await ingest.command(command)
        assert await ingest.graph_requests("messages") == []
        [failed] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert failed["type"] == "whatsapp.message.failed"
        assert failed["data"]["reason"] == "outcome_unknown"
        assert failed["data"]["retryable"] is True


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(131047, False), (131026, False), (132000, False), (132001, False), (190, False),
     (100, False)],
)  # fmt: skip
async def test_metas_refusal_becomes_a_failed_event_with_its_code(
    code: int, retryable: bool
) -> None:
    async with running_ingest() as ingest:
        await ingest.sim.post("/_sim/failures", json={"code": code, "times": 1})
        command = a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"})
        await ingest.command(command)
        failed = ingest.captured.events(topics.WHATSAPP_STATUS)[0]
        assert failed["type"] == "whatsapp.message.failed"
        assert failed["data"]["error"]["code"] == code
        assert failed["data"]["error"]["title"]
        assert failed["data"]["retryable"] is retryable
        await ingest.command(command)
        assert len(await ingest.graph_requests("messages")) == 1
        first, repeated = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert repeated["id"] == first["id"]
        assert repeated["data"]["reason"] == first["data"]["reason"] == "meta_error"
        assert repeated["data"]["retryable"] is retryable


async def test_details_of_a_window_closed_error_reach_the_event() -> None:
    async with running_ingest() as ingest:
        await ingest.sim.post("/_sim/failures", json={"code": 131047})
        await ingest.command(a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"}))
        [failed] = ingest.captured.events(topics.WHATSAPP_STATUS)
        error = failed["data"]["error"]
        assert error["title"] == "Re-engagement message"
        assert "24 hours" in error["details"]


@pytest.mark.parametrize("code", [130429, 131056, 80007, 131000])
async def test_throughput_and_transient_errors_are_retried_until_meta_accepts(code: int) -> None:
    async with running_ingest() as ingest:
        await ingest.sim.post("/_sim/failures", json={"code": code, "times": 2})
        await ingest.command(a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"}))
        assert len(await ingest.graph_requests("messages")) == 3
        [accepted] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert accepted["type"] == "whatsapp.message.accepted"
        assert ingest.metric("ingest_graph_retries_total", code=str(code)) == 2


async def test_retries_stop_after_the_configured_attempts() -> None:
    async with running_ingest(send_max_attempts=3) as ingest:
        await ingest.sim.post("/_sim/failures", json={"code": 130429, "times": -1})
        await ingest.command(a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"}))
        assert len(await ingest.graph_requests("messages")) == 3
        [failed] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert failed["data"]["error"]["code"] == 130429
        assert failed["data"]["retryable"] is True and failed["data"]["attempts"] == 3


async def test_a_command_for_another_workspaces_number_is_refused_without_calling_meta() -> None:
    async with running_ingest() as ingest:
        await ingest.command(a_send(random_ref("ws"), {"kind": "text", "body": "Salam"}))
        assert await ingest.graph_requests("messages") == []
        [failed] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert failed["data"]["reason"] == "unknown_channel"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{broken", "undecodable"),
        (b'{"type": "whatsapp.message.send_requested", "id": "x"}', "invalid_event"),
    ],
)
async def test_a_command_that_cannot_be_read_is_dead_lettered_not_retried(
    body: bytes, reason: str
) -> None:
    async with running_ingest() as ingest:
        await ingest.command(body)
        [dead] = ingest.captured.events(topics.INGEST_DEADLETTER)
        assert dead["data"]["reason"] == reason
        assert dead["data"]["service"] == "ingest"
        assert dead["data"]["topic"] == topics.WHATSAPP_OUTBOUND
        assert dead["data"]["raw_text"] == body.decode()
        assert not ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert await ingest.graph_requests() == []
        labels = {"topic": topics.WHATSAPP_OUTBOUND, "reason": reason}
        assert ingest.metric("hanout_dead_lettered_events_total", **labels) == 1


async def test_a_sync_for_an_unknown_channel_is_dead_lettered_with_the_command() -> None:
    async with running_ingest() as ingest:
        data = TemplatesSyncRequested(phone_number_id=PNID_2, reason="template_status_webhook")
        command = TemplatesSyncRequestedEvent.create(
            source="hanout/ingest", workspaceid=ingest.workspace_id, subject=PNID_2, data=data
        )
        await ingest.command(command)
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "unknown_channel"
        assert dead["data"]["original_topic"] == topics.WHATSAPP_OUTBOUND
        assert json.loads(dead["data"]["raw_text"])["id"] == command.id
        assert not ingest.captured.events(topics.INGEST_DEADLETTER)
        assert ingest.metric("ingest_dead_letters_total", reason="unknown_channel") == 1
        await ingest.command(command)
        again = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert [e["id"] for e in again] == [dead["id"]] * 2


async def test_media_needs_exactly_one_of_id_or_link() -> None:
    async with running_ingest() as ingest:
        await ingest.command(a_send(ingest.workspace_id, {"kind": "image"}))
        [failed] = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert failed["data"]["reason"] == "invalid_command"
        assert await ingest.graph_requests("messages") == []


async def test_an_unknown_command_type_is_skipped() -> None:
    async with running_ingest() as running:
        command = a_send(running.workspace_id, {"kind": "text", "body": "x"})
        body = json.loads(command.model_dump_json())
        body["type"] = "whatsapp.message.edit_requested"
        await running.command(json.dumps(body).encode())
        assert await running.graph_requests() == []
        assert not running.captured.events(topics.WHATSAPP_DEADLETTER)
        assert not running.captured.events(topics.INGEST_DEADLETTER)
