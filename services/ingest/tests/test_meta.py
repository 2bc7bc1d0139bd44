"""Pure translation of Meta's example bodies into our events: every type and attribute kept."""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import (
    ChannelErrorReported,
    DeadLettered,
    MessageReceived,
    StatusChanged,
)
from ingest.webhooks.model.translate import Delivery, Translation, translate

from .ingest_builders import PNID, PNID_2, WABA_2, a_channel, example

RECEIVED_AT = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
CHANNELS = {PNID: a_channel("ws-1"), PNID_2: a_channel("ws-1", PNID_2, waba_id=WABA_2)}


def translated(name_or_payload: str | dict[str, Any], app: str = "test-app") -> Translation:
    if isinstance(name_or_payload, str):
        body = example(name_or_payload)[0]
    else:
        body = json.dumps(name_or_payload).encode()
    delivery = Delivery(hashlib.sha256(body).hexdigest(), RECEIVED_AT, app)
    return translate(json.loads(body), delivery, CHANNELS)


def message(name: str) -> MessageReceived:
    [outgoing] = translated(name).outgoing
    assert outgoing.topic == topics.WHATSAPP_INBOUND
    data = outgoing.event.data
    assert isinstance(data, MessageReceived)
    return data


def status(name: str) -> StatusChanged:
    [outgoing] = translated(name).outgoing
    assert outgoing.topic == topics.WHATSAPP_STATUS
    data = outgoing.event.data
    assert isinstance(data, StatusChanged)
    return data


def test_a_text_carries_channel_identities_timestamp_and_conversation_key() -> None:
    data = message("msg_text.json")
    assert data.text and data.message_type == "text"
    assert data.channel.phone_number_id == PNID
    assert data.channel.display_phone_number == "212522000111"
    assert data.channel.waba_id == "104857361029384"
    assert data.contact.wa_id and data.contact.user_id and data.contact.profile_name
    assert data.conversation_key == f"ws-1:{PNID}:{data.contact.wa_id}"
    assert data.sent_at.tzinfo is not None


def test_the_contacts_number_is_read_from_the_wa_id_once_here() -> None:
    assert message("msg_text.json").contact.phone_e164 == "+212612345678"
    # +212 686 is not in libphonenumber's metadata yet: the platform's parser still takes it.
    assert message("msg_order.json").contact.phone_e164 == "+212686353334"
    assert message("msg_text_username_no_phone.json").contact.phone_e164 is None
    assert status("status_failed_131047.json").contact.phone_e164 == "+212700445566"
    payload = json.loads(example("msg_text.json")[0])
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "999"
    [outgoing] = translated(payload).outgoing
    assert outgoing.event.data.contact.wa_id == "999"
    assert outgoing.event.data.contact.phone_e164 is None


def test_media_keeps_id_mime_sha_caption_and_url() -> None:
    image = message("msg_image.json")
    assert image.media is not None
    assert image.media.id == "2718281828459045"
    assert image.media.mime_type == "image/jpeg"
    assert image.media.sha256 == "Y5oF5lpETM0gpJwpGId2zFAI5Cx6lIhS/lx360kjKfw="
    assert image.media.caption == image.text == "Hadi hiya l-3olba, wslat m7arsa"
    assert image.media.url and image.media.url.startswith("https://lookaside.fbsbx.com/")
    video = message("msg_video.json")
    assert video.media and video.media.url is None and video.media.caption


def test_voice_notes_documents_and_animated_stickers_keep_their_flags() -> None:
    voice = message("msg_audio_voice.json").media
    assert voice and voice.voice is True and voice.mime_type == "audio/ogg; codecs=opus"
    assert (audio := message("msg_audio.json").media) and audio.voice is False
    document = message("msg_document.json").media
    assert document and document.filename == "bon_commande_mai_2026.pdf"
    assert document.caption == "Bon de commande dyal had chhar"
    sticker = message("msg_sticker.json").media
    assert sticker and sticker.animated is True and sticker.mime_type == "image/webp"


def test_locations_keep_coordinates_and_place() -> None:
    place = message("msg_location.json").location
    assert place and place.latitude == 34.0618 and place.longitude == -4.9838
    assert place.name == "Bab Boujloud" and place.address and place.url
    current = message("msg_location_current.json").location
    assert current and current.name is None


def test_shared_contact_cards_are_kept_with_their_phones() -> None:
    cards = message("msg_contacts.json").contacts
    assert [c.formatted_name for c in cards] == ["Yassine Tahiri", "Sanaa"]
    assert cards[0].company == "Tahiri Logistique SARL"
    assert cards[0].emails == ["y.tahiri@example.ma"]
    assert [p.wa_id for p in cards[0].phones] == ["212663445566", None]


def test_interactive_and_template_button_replies_name_what_was_tapped() -> None:
    button = message("msg_interactive_button_reply.json")
    assert button.reply and button.reply.kind == "button_reply" and button.reply.id
    assert button.context and button.context.replied_to_wamid
    row = message("msg_interactive_list_reply.json").reply
    assert row and row.kind == "list_reply" and row.id == "slot_2026-05-09_14h"
    assert row.title == "Samedi 14h-16h" and row.description == "Livraison Fes"
    flow = message("msg_interactive_nfm_reply.json").reply
    assert flow and flow.kind == "nfm_reply" and flow.flow_name == "flow"
    assert json.loads(flow.response_json or "")["order_id"] == "CMD-2051"
    template = message("msg_button_template_quick_reply.json")
    assert template.reply and template.reply.kind == "template_button"
    assert template.reply.id == "UNSUBSCRIBE_OFFERS" and template.text == "Ma bghitch l-promos"


def test_a_reaction_and_its_removal_are_told_apart() -> None:
    added = message("msg_reaction.json").reaction
    removed = message("msg_reaction_removed.json").reaction
    assert added and added.emoji == "\U0001f64f" and not added.removed
    assert removed and removed.emoji is None and removed.removed
    assert added.message_id == removed.message_id
    empty = json.loads(example("msg_reaction_removed.json")[0])
    empty["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"] = ""
    [outgoing] = translated(empty).outgoing
    assert outgoing.event.data.reaction.removed is True


def test_a_catalog_order_keeps_exact_decimal_prices() -> None:
    order = message("msg_order.json").order
    assert order and order.catalog_id == "880312457702931"
    assert [(i.product_retailer_id, i.quantity, i.item_price) for i in order.items] == [
        ("ARGAN-OIL-100ML", 3, Decimal("89")),
        ("GHASSOUL-250G", 1, Decimal("34.5")),
    ]
    assert all(i.currency == "MAD" for i in order.items)


def test_ad_referral_and_referred_product_are_kept() -> None:
    referral = message("msg_text_referral_ctwa.json").referral
    assert referral and referral.source_type == "ad" and referral.ctwa_clid
    assert referral.headline and referral.image_url
    assert referral.welcome_message == "Ahlan! Chno bghiti t3ref?"
    product = message("msg_text_referred_product.json").referred_product
    assert product and product.product_retailer_id == "KAFTAN-L-GREEN"


def test_reply_and_forward_context_is_kept() -> None:
    reply = message("msg_text_reply_context.json").context
    assert reply and reply.replied_to_wamid and reply.replied_to_from == "212522000111"
    forwarded = message("msg_text_forwarded.json").context
    assert forwarded and forwarded.forwarded and not forwarded.frequently_forwarded
    often = message("msg_image_frequently_forwarded.json").context
    assert often and often.frequently_forwarded
    assert message("msg_text.json").context is None


def test_a_username_only_customer_is_keyed_by_bsuid() -> None:
    data = message("msg_text_username_no_phone.json")
    assert data.contact.wa_id is None
    assert data.contact.user_id == "MA.67126435982677162711"
    assert data.contact.username == "@rim.sebti"
    assert data.conversation_key == f"ws-1:{PNID}:MA.67126435982677162711"


def test_a_legacy_body_without_bsuid_still_identifies_the_customer() -> None:
    data = message("msg_text_legacy_no_bsuid.json")
    assert data.contact.wa_id and data.contact.user_id is None and data.contact.profile_name


def test_a_system_message_without_contacts_is_kept_with_the_new_number() -> None:
    data = message("msg_system_user_changed_number.json")
    assert data.system and data.system.type == "user_changed_number"
    assert data.system.new_wa_id == "212677001122"
    assert data.contact.wa_id == "212686353334" and data.contact.profile_name is None


def test_unsupported_and_welcome_messages_are_not_dropped() -> None:
    unsupported = message("msg_unsupported.json")
    assert unsupported.original_type == "poll_creation"
    assert [e.code for e in unsupported.errors] == [131051]
    assert unsupported.errors[0].details == "Message type is currently not supported."
    assert message("msg_request_welcome.json").message_type == "request_welcome"


def test_a_type_we_do_not_know_is_received_as_unknown_with_the_raw_item() -> None:
    payload = json.loads(example("msg_text.json")[0])
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    item["type"], item["hologram"] = "hologram", {"depth": 3}
    del item["text"]
    [outgoing] = translated(payload).outgoing
    data = outgoing.event.data
    assert data.message_type == "unknown" and data.original_type == "hologram"
    assert data.raw["hologram"] == {"depth": 3}


def test_value_errors_are_attached_to_the_message_and_reported_for_the_channel() -> None:
    result = translated("msg_with_value_errors.json")
    received, reported = (o.event.data for o in result.outgoing)
    assert isinstance(received, MessageReceived) and isinstance(reported, ChannelErrorReported)
    assert received.message_type == "interactive" and received.reply is None
    assert [e.code for e in received.errors] == [131000]
    assert reported.error.code == 131000 and reported.reported_at == RECEIVED_AT


def test_failed_statuses_carry_metas_errors() -> None:
    failed = status("status_failed_131047.json")
    assert failed.status == "failed" and failed.contact.wa_id == "212700445566"
    [error] = failed.errors
    assert error.code == 131047 and error.title == "Re-engagement message"
    assert error.details and error.href


def test_status_pricing_conversation_and_callback_data_are_kept() -> None:
    sent = status("status_sent_free_entry_point.json")
    assert sent.pricing and sent.pricing.type == "free_entry_point"
    assert sent.pricing.billable is False and sent.pricing.pricing_model == "PMP"
    assert sent.conversation_origin == "referral_conversion"
    assert sent.conversation_expires_at == datetime.fromtimestamp(1778404060, UTC)
    legacy = status("status_sent_legacy_cbp.json")
    assert legacy.pricing and legacy.pricing.pricing_model == "CBP"
    assert status("status_sent.json").biz_opaque_callback_data
    assert status("status_played.json").status == "played"


def test_the_batch_is_read_in_full_across_entries_and_changes() -> None:
    result = translated("batch_multi_entry.json")
    kinds = [o.event.type for o in result.outgoing]
    assert kinds.count("whatsapp.message.received") == 4
    assert kinds.count("whatsapp.message.status_changed") == 4
    numbers = {o.event.data.channel.phone_number_id for o in result.outgoing}
    assert numbers == {PNID, PNID_2}


def test_event_ids_are_deterministic_and_redelivery_proof() -> None:
    first = [o.event.id for o in translated("batch_multi_entry.json").outgoing]
    again = [o.event.id for o in translated("batch_multi_entry.json").outgoing]
    assert first == again and len(set(first)) == len(first)


def test_an_unknown_channel_becomes_one_dead_letter_per_change() -> None:
    result = translate(
        json.loads(example("batch_multi_entry.json")[0]),
        Delivery("sha", RECEIVED_AT, "test-app"),
        {PNID: CHANNELS[PNID]},
    )
    dead = [o.event.data for o in result.outgoing if isinstance(o.event.data, DeadLettered)]
    assert dead and {d.reason for d in dead} == {"unknown_channel"}
    assert {d.phone_number_id for d in dead} == {PNID_2}
    assert all(d.raw for d in dead)


def test_a_template_status_change_requests_a_sync_of_each_channel_of_the_waba() -> None:
    [outgoing] = translated("other_field_template_status_update.json").outgoing
    assert outgoing.topic == topics.WHATSAPP_OUTBOUND
    assert outgoing.event.data.phone_number_id == PNID


def test_a_body_without_entries_is_dead_lettered_not_raised() -> None:
    result = translated({"object": "whatsapp_business_account", "entry": "nope"})
    [dead] = result.dead_letters()
    assert dead.reason == "malformed_body"
