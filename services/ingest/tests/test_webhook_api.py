"""The webhook endpoint: handshake, signatures, size and body rules, dead letters, durability."""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.routing import Route

from hanout_shared.contracts import topics
from ingest.settings import MetaApp
from ingest.webhooks.endpoint import WebhookEndpoint

from .ingest_builders import PNID, TEST_APP, TEST_SECRET, example, sign
from .ingest_harness import Ingest, running_ingest


async def test_a_missing_signature_is_401_counted_and_publishes_nothing() -> None:
    async with running_ingest() as ingest:
        body, _ = example("msg_text.json")
        response = await ingest.post_webhook(body, None)
        assert response.status_code == 401
        assert response.json()["code"] == "missing_signature"
        assert not ingest.captured.messages
        labels = {"reason": "missing"}
        assert ingest.metric("ingest_webhook_signature_failures_total", **labels) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, sig: (body.replace(b"Salam", b"Salem"), sig),
        lambda body, sig: (body, sign(body, "another_app_secret")),
        lambda body, sig: (body, sig.replace("sha256=", "sha1=")),
        lambda body, sig: (body, "sha256=caf\u00e9"),
    ],
    ids=["one-byte-changed", "wrong-secret", "wrong-scheme", "non-ascii-header"],
)
async def test_a_wrong_signature_is_401_and_publishes_nothing(
    tamper: Callable[[bytes, str], tuple[bytes, str]],
) -> None:
    async with running_ingest() as ingest:
        body, signature = tamper(*example("msg_text.json"))
        headers = {"X-Hub-Signature-256": signature.encode("utf-8")}
        response = await ingest.client.post("/webhooks/whatsapp", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_signature"
        assert not ingest.captured.messages


async def test_the_signature_is_over_the_raw_bytes_not_a_reserialised_body() -> None:
    async with running_ingest() as ingest:
        body, signature = example("msg_text_unicode_compact.json")
        reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
        assert reserialised != body
        assert (await ingest.post_webhook(reserialised, signature)).status_code == 401
        assert (await ingest.post_webhook(body, signature)).status_code == 200
        [event] = ingest.captured.events(topics.WHATSAPP_INBOUND)
        assert "\u0040" in event["data"]["text"] or "/" in event["data"]["text"]


async def test_several_app_secrets_are_accepted_so_a_key_can_rotate() -> None:
    secrets = [SecretStr("the_new_secret"), SecretStr(TEST_SECRET)]
    apps = {TEST_APP: MetaApp(app_secrets=secrets, verify_token=SecretStr("v"))}
    async with running_ingest(meta_apps=apps) as ingest:
        body, old_signature = example("msg_text.json")
        assert (await ingest.post_webhook(body, old_signature)).status_code == 200
        assert (await ingest.post_webhook(body, sign(body, "the_new_secret"))).status_code == 200
        assert (await ingest.post_webhook(body, sign(body, "retired"))).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b'{"object": "page", "entry": []}', "wrong_object"),
        (b"[1, 2, 3]", "wrong_object"),
        (b"\xff\xfe garbage", "invalid_json"),
    ],
)
async def test_a_signed_body_we_cannot_take_is_400_and_dead_lettered(
    body: bytes, code: str
) -> None:
    async with running_ingest() as ingest:
        response = await ingest.post_webhook(body, sign(body))
        assert response.status_code == 400
        assert response.json()["code"] == code
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == code
        assert dead["data"]["original_topic"] == topics.WEBHOOKS_RAW
        assert not ingest.captured.messages[topics.WEBHOOKS_RAW]
        assert ingest.metric("ingest_dead_letters_total", reason=code) == 1


async def test_a_body_over_the_limit_is_413_whether_declared_or_streamed() -> None:
    async with running_ingest(max_body_bytes=1000) as ingest:
        body = b'{"object":"whatsapp_business_account","pad":"' + b"x" * 2000 + b'"}'
        assert (await ingest.post_webhook(body, sign(body))).status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 300

        headers = {"X-Hub-Signature-256": sign(b"x" * 1500)}
        response = await ingest.client.post("/webhooks/whatsapp", content=chunks(), headers=headers)
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        assert not ingest.captured.messages


async def test_an_unknown_number_is_acknowledged_dead_lettered_and_counted() -> None:
    async with running_ingest() as ingest:
        body = example("msg_text.json")[0].replace(b"110928374650192", b"999999999999999")
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "unknown_channel"
        assert dead["data"]["phone_number_id"] == "999999999999999"
        assert dead["data"]["raw"]["messages"][0]["text"]["body"]
        assert ingest.captured.messages[topics.WEBHOOKS_RAW]
        assert not ingest.captured.messages[topics.WHATSAPP_INBOUND]
        assert ingest.metric("ingest_dead_letters_total", reason="unknown_channel") == 1


async def test_a_disabled_number_is_dead_lettered_rather_than_delivered() -> None:
    async with running_ingest() as ingest:
        await ingest.store.channels.update(
            ingest.workspace_id, "110928374650192", {"enabled": False}
        )
        ingest.deps.directory.invalidate()
        await ingest.post_webhook(*example("msg_text.json"))
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "channel_disabled"


async def test_a_number_signed_by_another_apps_secret_is_not_trusted() -> None:
    apps = {
        TEST_APP: MetaApp(app_secrets=[SecretStr(TEST_SECRET)], verify_token=SecretStr("v")),
        "other-app": MetaApp(app_secrets=[SecretStr("other")], verify_token=SecretStr("w")),
    }
    async with running_ingest(meta_apps=apps) as ingest:
        body, _ = example("msg_text.json")
        assert (await ingest.post_webhook(body, sign(body, "other"))).status_code == 200
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "app_mismatch"
        assert not ingest.captured.messages[topics.WHATSAPP_INBOUND]


async def test_a_broken_item_is_dead_lettered_while_its_neighbours_go_through() -> None:
    async with running_ingest() as ingest:
        payload = json.loads(example("msg_text.json")[0])
        messages = payload["entry"][0]["changes"][0]["value"]["messages"]
        messages.append({**messages[0], "id": 42})
        body = json.dumps(payload).encode()
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        assert len(ingest.captured.events(topics.WHATSAPP_INBOUND)) == 1
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "malformed_item"
        assert dead["data"]["original_topic"] == topics.WHATSAPP_INBOUND
        assert dead["data"]["raw"]["id"] == 42


async def test_a_lone_surrogate_in_a_text_is_taken_as_a_replacement_character() -> None:
    """JSON may escape half of a UTF-16 pair; no UTF-8 text can hold it, so it would fail every
    event built from it (a 500, and Meta retrying the body for days)."""
    async with running_ingest() as ingest:
        body, _ = example("msg_text.json")
        payload = json.loads(body)
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Salam ?"
        body = json.dumps(payload).encode().replace(b"Salam ?", b"Salam \\ud83d")
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        [received] = ingest.captured.events(topics.WHATSAPP_INBOUND)
        assert received["data"]["text"] == "Salam \ufffd"


async def test_an_entry_nested_too_deeply_is_dead_lettered_as_text_and_acknowledged() -> None:
    async with running_ingest() as ingest:
        entry = "[" * 900 + "]" * 900
        body = f'{{"object":"whatsapp_business_account","entry":[{entry}]}}'.encode()
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "malformed_entry"
        assert dead["data"]["raw_text"] == entry
        assert "raw" not in dead["data"]
        assert ingest.captured.messages[topics.WEBHOOKS_RAW][0].body == body


async def test_when_kafka_does_not_acknowledge_the_answer_is_503() -> None:
    async with running_ingest(kafka_ack_timeout_s=0.2) as ingest:

        async def never_acks(*args: object, **kwargs: object) -> object:
            return asyncio.get_running_loop().create_future()

        ingest.deps.sink.send = never_acks
        response = await ingest.post_webhook(*example("msg_text.json"))
        assert response.status_code == 503
        assert response.json()["code"] == "kafka_unavailable"
        assert ingest.metric("ingest_webhooks_total", outcome="kafka_unavailable") == 1


async def test_the_verification_handshake_echoes_the_challenge_only_for_our_token() -> None:
    async with running_ingest() as ingest:
        ok = {
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me",
            "hub.challenge": "1158201444",
        }
        response = await ingest.client.get("/webhooks/whatsapp", params=ok)
        assert response.status_code == 200
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")
        wrong = {**ok, "hub.verify_token": "guess"}
        assert (await ingest.client.get("/webhooks/whatsapp", params=wrong)).status_code == 403
        bad_mode = {**ok, "hub.mode": "unsubscribe"}
        assert (await ingest.client.get("/webhooks/whatsapp", params=bad_mode)).status_code == 403
        missing = {"hub.mode": "subscribe"}
        assert (await ingest.client.get("/webhooks/whatsapp", params=missing)).status_code == 400


async def test_a_template_status_webhook_triggers_a_template_sync() -> None:
    async with running_ingest() as ingest:
        assert (
            await ingest.post_webhook(*example("other_field_template_status_update.json"))
        ).status_code == 200
        [command] = ingest.captured.events(topics.WHATSAPP_OUTBOUND)
        assert command["data"] == {
            "phone_number_id": "110928374650192",
            "reason": "template_status_webhook",
        }
        [synced] = ingest.captured.events(topics.WHATSAPP_TEMPLATES)
        assert synced["data"]["reason"] == "template_status_webhook"


async def test_a_field_we_do_not_translate_is_kept_raw_and_counted() -> None:
    async with running_ingest() as ingest:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "104857361029384", "time": 1782900600,
                       "changes": [{"field": "account_update", "value": {"event": "VERIFIED"}}]}],
        }  # fmt: skip
        body = json.dumps(payload).encode()
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        assert ingest.captured.messages[topics.WEBHOOKS_RAW][0].body == body
        labels = {"field": "account_update"}
        assert ingest.metric("ingest_webhook_ignored_fields_total", **labels) == 1


BODIES = {
    "accepted": example("msg_text.json"),
    "unknown_number": example("msg_text.json")[0].replace(PNID.encode(), b"999999999999999"),
    "invalid_json": b"{not json",
    "wrong_object": b'{"object": "page"}',
    "bad_signature": (example("msg_text.json")[0], sign(b"another body")),
    "too_large": b'{"object":"whatsapp_business_account","pad":"' + b"x" * 2000 + b'"}',
}


RECEIVED_AT = re.compile(rb"20\d\d-\d\d-\d\dT[0-9:.]+(Z|\+00:00)")  # each POST has its own


async def _answer_and_records(ingest: Ingest, case: str) -> tuple[Any, ...]:
    given = BODIES[case]
    body, signature = given if isinstance(given, tuple) else (given, sign(given))
    response = await ingest.post_webhook(body, signature)
    records = sorted(
        (topic, message.raw_message.key, RECEIVED_AT.sub(b"<time>", message.body))
        for topic, messages in ingest.captured.messages.items()
        for message in messages
    )
    return response.status_code, response.content, records


@pytest.mark.parametrize("case", list(BODIES))
async def test_the_documented_route_behind_the_plain_endpoint_answers_alike(case: str) -> None:
    async with running_ingest(max_body_bytes=1000) as ingest:
        served = await _answer_and_records(ingest, case)
    async with running_ingest(max_body_bytes=1000) as ingest:
        endpoint = ingest.app.router.routes.pop(0)
        assert isinstance(endpoint, Route) and isinstance(endpoint.app, WebhookEndpoint)
        documented = await _answer_and_records(ingest, case)
    assert served == documented
