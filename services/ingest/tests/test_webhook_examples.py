"""Every example body through the webhook endpoint: exactly the expected events, stable ids."""

import json

import pytest

from hanout_shared.contracts import topics

from .ingest_builders import PNID_2, WABA_2, a_channel, example, example_names, sequence, sign
from .ingest_harness import running_ingest

RECEIVED, STATUS = "whatsapp.message.received", "whatsapp.message.status_changed"
ERROR, SYNC = "whatsapp.channel.error_reported", "whatsapp.templates.sync_requested"
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "batch_multi_entry.json": [
        (RECEIVED, "text"), (RECEIVED, "image"), (RECEIVED, "text"), (STATUS, "read"),
        (STATUS, "delivered"), (STATUS, "sent"), (RECEIVED, "reaction"), (STATUS, "failed"),
    ],
    "msg_with_value_errors.json": [(RECEIVED, "interactive"), (ERROR, "131000")],
    "other_field_template_status_update.json": [(SYNC, "110928374650192")],
    "value_errors_only.json": [(ERROR, "130429")],
    **{
        name: [(STATUS, name.split("_")[1].removesuffix(".json"))]
        for name in example_names()
        if name.startswith("status_")
    },
    **{
        name: [(RECEIVED, kind)]
        for name, kind in [
            ("msg_audio.json", "audio"), ("msg_audio_voice.json", "audio"),
            ("msg_button_template_quick_reply.json", "button"),
            ("msg_contacts.json", "contacts"), ("msg_document.json", "document"),
            ("msg_image.json", "image"), ("msg_image_frequently_forwarded.json", "image"),
            ("msg_interactive_button_reply.json", "interactive"),
            ("msg_interactive_list_reply.json", "interactive"),
            ("msg_interactive_nfm_reply.json", "interactive"),
            ("msg_location.json", "location"), ("msg_location_current.json", "location"),
            ("msg_order.json", "order"), ("msg_reaction.json", "reaction"),
            ("msg_reaction_removed.json", "reaction"),
            ("msg_request_welcome.json", "request_welcome"), ("msg_sticker.json", "sticker"),
            ("msg_system_user_changed_number.json", "system"), ("msg_text.json", "text"),
            ("msg_text_forwarded.json", "text"), ("msg_text_legacy_no_bsuid.json", "text"),
            ("msg_text_referral_ctwa.json", "text"),
            ("msg_text_referred_product.json", "text"),
            ("msg_text_reply_context.json", "text"),
            ("msg_text_unicode_compact.json", "text"),
            ("msg_text_username_no_phone.json", "text"),
            ("msg_unsupported.json", "unsupported"), ("msg_video.json", "video"),
        ]
    },
}  # fmt: skip


def summary(event: dict[str, object]) -> tuple[str, str]:
    data = event["data"]
    assert isinstance(data, dict)
    detail = data.get("message_type") or data.get("status") or data.get("phone_number_id")
    if event["type"] == ERROR:
        detail = str(data["error"]["code"])
    return str(event["type"]), str(detail)


def test_every_example_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == example_names()
    assert len(example_names()) == 41


@pytest.mark.parametrize("name", example_names())
async def test_every_example_yields_exactly_the_expected_events(name: str) -> None:
    async with running_ingest() as ingest:
        await ingest.store.channels.add(a_channel(ingest.workspace_id, PNID_2, waba_id=WABA_2))
        body, signature = example(name)
        response = await ingest.post_webhook(body, signature)
        assert response.status_code == 200
        [raw] = ingest.captured.messages[topics.WEBHOOKS_RAW]
        assert raw.body == body
        events = [e for e in ingest.captured.derived() if e["type"] != "whatsapp.templates.synced"]
        assert sorted(summary(e) for e in events) == sorted(EXPECTED[name])
        assert all(e["workspaceid"] == ingest.workspace_id for e in events)
        assert not ingest.captured.events(topics.WHATSAPP_DEADLETTER)


async def test_derived_events_are_keyed_by_conversation_and_carry_whatsapp_time() -> None:
    async with running_ingest() as ingest:
        await ingest.post_webhook(*example("msg_text.json"))
        [message] = ingest.captured.messages[topics.WHATSAPP_INBOUND]
        event = json.loads(message.body)
        assert message.raw_message.key == event["subject"].encode()
        assert event["subject"] == f"{ingest.workspace_id}:110928374650192:212612345678"
        assert event["time"] == "2026-05-07T09:00:05Z"
        assert event["data"]["contact"]["phone_e164"] == "+212612345678"
        assert message.headers["content-type"] == "application/cloudevents+json"


async def test_a_redelivered_body_is_acknowledged_and_yields_the_same_event_ids() -> None:
    async with running_ingest() as ingest:
        first, second = sequence("duplicate_redelivery.json")
        assert first == second
        for body in (first, second):
            assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        ids = [e["id"] for e in ingest.captured.events(topics.WHATSAPP_INBOUND)]
        assert len(ids) == 2 and ids[0] == ids[1]


async def test_out_of_order_statuses_keep_their_own_ids_and_times_so_read_wins() -> None:
    async with running_ingest() as ingest:
        for body in sequence("statuses_out_of_order.json"):
            assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        events = ingest.captured.events(topics.WHATSAPP_STATUS)
        assert [e["data"]["status"] for e in events] == ["read", "delivered", "sent"]
        assert len({e["id"] for e in events}) == 3
        rank = {"sent": 1, "delivered": 2, "read": 3}
        assert max(events, key=lambda e: rank[e["data"]["status"]])["data"]["status"] == "read"
        assert [e["time"] for e in events] == sorted(e["time"] for e in events)[::-1]


async def test_a_reaction_and_its_removal_on_the_same_wamid_are_two_events() -> None:
    async with running_ingest() as ingest:
        await ingest.post_webhook(*example("msg_reaction.json"))
        await ingest.post_webhook(*example("msg_reaction_removed.json"))
        added, removed = ingest.captured.events(topics.WHATSAPP_INBOUND)
        assert added["data"]["wamid"] == removed["data"]["wamid"]
        assert added["id"] != removed["id"]
        assert removed["data"]["reaction"]["removed"] is True


async def test_a_batch_of_1000_updates_yields_1000_events() -> None:
    async with running_ingest() as ingest:
        template = json.loads(example("msg_text.json")[0])
        value = template["entry"][0]["changes"][0]["value"]
        item = value["messages"][0]
        value["messages"] = [{**item, "id": f"wamid.batch{i:04d}"} for i in range(1000)]
        body = json.dumps(template).encode()
        assert (await ingest.post_webhook(body, sign(body))).status_code == 200
        events = ingest.captured.events(topics.WHATSAPP_INBOUND)
        assert len({e["id"] for e in events}) == 1000
