"""What customers' messages and contact matches do, on the in-memory broker and a fake store."""

from datetime import timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from hanout_shared.contracts import topics
from inbox.app import create_app
from inbox.conversations.model import WINDOW_CLOSED, conversation_id
from inbox.kafka import durable_groups
from inbox.settings import InboxSettings

from .builders import (
    WA_ID,
    a_message_received,
    a_reaction,
    a_referral,
    a_sample,
    contact_matched,
    key_of,
    now,
)
from .conftest import Service
from .fakes import FakeStore
from .samples import SAMPLES


async def timeline(service: Service, conversation: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = (await service.get(f"/conversations/{conversation}/messages"))[
        "items"
    ]
    return items


async def test_a_first_message_opens_a_conversation_with_one_unread_and_an_open_window(
    service: Service,
) -> None:
    await service.receive(a_message_received(workspace_id=service.workspace))
    [row] = await service.conversations()
    assert (row["display_name"], row["unread_count"], row["awaiting_reply"]) == ("Karim", 1, True)
    assert row["last_message"]["preview"] == "Salam, wach kayn had l'produit?"
    assert row["window"]["open"] and row["window"]["seconds_left"] > 23 * 3600
    assert row["window"]["banner"] is None
    assert row["id"] == conversation_id(key_of(service.workspace))
    kinds = [e["type"] for e in service.events()]
    assert kinds == [
        "inbox.message.received",
        "inbox.conversation.opened",
        "inbox.conversation.updated",
    ]
    assert service.events("inbox.conversation.opened")[0]["data"]["reopened"] is False


@pytest.mark.parametrize("kind", sorted(SAMPLES))
async def test_every_message_type_is_listed_with_a_readable_summary(
    service: Service, kind: str
) -> None:
    await service.receive(a_sample(service.workspace, kind))
    [row] = await service.conversations()
    [message] = await timeline(service, row["id"])
    expected = SAMPLES[kind][1]
    assert (message["type"], message["summary"]) == (kind, expected)
    assert row["last_message"]["preview"] == expected
    assert row["unread_count"] == (0 if kind == "system" else 1)
    assert row["window"]["open"] is (kind != "system")


async def test_media_location_contacts_orders_and_ads_keep_their_parts(service: Service) -> None:
    ws = service.workspace
    await service.receive(
        a_sample(ws, "document"),
        a_sample(ws, "location"),
        a_sample(ws, "contacts"),
        a_sample(ws, "order"),
        a_message_received(workspace_id=ws, **a_referral()),
    )
    [row] = await service.conversations()
    by_type = {m["type"]: m for m in await timeline(service, row["id"])}
    [document] = by_type["document"]["attachments"]
    assert (document["media_id"], document["mime_type"], document["filename"]) == (
        "m-doc",
        "application/pdf",
        "facture.pdf",
    )
    assert by_type["location"]["location"]["name"] == "Maarif"
    assert by_type["contacts"]["contacts"][0]["phones"][0]["phone"] == "+212 661-000111"
    assert by_type["order"]["order"]["items"][0]["item_price"] == "149.50"
    assert by_type["text"]["referral"]["headline"] == "Promo -30%"
    assert by_type["text"]["context"]["forwarded"] is True


async def test_a_redelivered_message_changes_nothing(service: Service) -> None:
    event = a_message_received(workspace_id=service.workspace)
    await service.receive(event, event)
    [row] = await service.conversations()
    assert row["unread_count"] == 1
    assert len(await timeline(service, row["id"])) == 1
    assert len({e["id"] for e in service.events()}) == 3  # the same events again, same ids


async def test_messages_are_ordered_by_whatsapp_time_and_a_late_one_keeps_the_preview(
    service: Service,
) -> None:
    at, ws = now(), service.workspace
    newer = a_message_received(workspace_id=ws, text="newer", sent_at=at)
    older = a_message_received(workspace_id=ws, text="older", sent_at=at - timedelta(minutes=5))
    await service.receive(newer, older)
    [row] = await service.conversations()
    assert (row["last_message"]["preview"], row["unread_count"]) == ("newer", 2)
    assert [m["text"] for m in await timeline(service, row["id"])] == ["older", "newer"]


async def test_a_contact_writing_after_the_window_closed_reopens_the_same_conversation(
    service: Service,
) -> None:
    ws, at = service.workspace, now()
    await service.receive(a_message_received(workspace_id=ws, sent_at=at - timedelta(hours=30)))
    [closed] = await service.conversations()
    assert closed["window"] == {
        "open": False,
        "expires_at": closed["window"]["expires_at"],
        "seconds_left": 0,
        "banner": WINDOW_CLOSED,
    }
    await service.receive(a_message_received(workspace_id=ws, text="rani hna", sent_at=at))
    [row] = await service.conversations()
    assert row["id"] == closed["id"] and row["window"]["open"]
    opened = [e["data"]["reopened"] for e in service.events("inbox.conversation.opened")]
    assert opened == [False, True]


async def test_a_reaction_attaches_to_its_message_and_a_removal_clears_it(service: Service) -> None:
    ws, at = service.workspace, now()
    message = a_message_received(workspace_id=ws, sent_at=at - timedelta(minutes=2))
    await service.receive(message, a_reaction(ws, message.data.wamid, "👍", sent_at=at))
    [row] = await service.conversations()
    [shown] = await timeline(service, row["id"])
    assert [r["emoji"] for r in shown["reactions"]] == ["👍"]
    assert row["last_message"]["preview"] == "Reacted 👍"
    await service.receive(a_reaction(ws, message.data.wamid, None, sent_at=at + timedelta(1)))
    [cleared] = await timeline(service, row["id"])
    assert cleared["reactions"] == []
    updates = service.events("inbox.message.updated")
    assert [u["data"]["message"]["reactions"] for u in updates] == [["👍"], []]


async def test_an_older_reaction_arriving_late_does_not_replace_a_newer_one(
    service: Service,
) -> None:
    ws, at = service.workspace, now()
    message = a_message_received(workspace_id=ws, sent_at=at - timedelta(minutes=2))
    newer = a_reaction(ws, message.data.wamid, "❤️", sent_at=at)
    older = a_reaction(ws, message.data.wamid, "😮", sent_at=at - timedelta(minutes=1))
    await service.receive(message, newer, older)
    [row] = await service.conversations()
    [shown] = await timeline(service, row["id"])
    assert [r["emoji"] for r in shown["reactions"]] == ["❤️"]


async def test_a_deleted_message_is_marked_revoked(service: Service) -> None:
    message = a_message_received(workspace_id=service.workspace)
    revoke = a_message_received(
        workspace_id=service.workspace, kind="revoke", revoked_wamid=message.data.wamid
    )
    await service.receive(message, revoke)
    [row] = await service.conversations()
    [shown] = await timeline(service, row["id"])
    assert shown["revoked"] is True and row["unread_count"] == 1


async def test_a_bsuid_only_contact_has_a_conversation_named_by_its_profile(
    service: Service,
) -> None:
    event = a_message_received(workspace_id=service.workspace, wa_id=None, user_id="MA.881234")
    await service.receive(event)
    [row] = await service.conversations()
    assert (row["display_name"], row["phone_e164"]) == ("Karim", None)
    assert row["contact"]["user_id"] == "MA.881234"
    assert row["conversation_key"].endswith(":MA.881234")


async def test_the_customer_card_name_wins_and_links_the_customer(service: Service) -> None:
    ws = service.workspace
    await service.receive(a_message_received(workspace_id=ws))
    await service.deliver(
        topics.CUSTOMERS_EVENTS,
        contact_matched(
            ws,
            key_of(ws),
            outcome="known",
            customer_id="cus-1",
            display_name="Karim Benali",
            phone_e164="+" + WA_ID,
        ),
    )
    [row] = await service.conversations()
    assert row["display_name"] == "Karim Benali"
    assert (row["customer"]["outcome"], row["customer"]["customer_id"]) == ("known", "cus-1")
    assert [r["id"] for r in await service.conversations(q="benali")] == [row["id"]]
    assert service.events("inbox.conversation.updated")[-1]["data"]["reason"] == "contact_matched"


async def test_a_match_that_arrives_before_the_first_message_is_kept(service: Service) -> None:
    ws = service.workspace
    await service.deliver(
        topics.CUSTOMERS_EVENTS,
        contact_matched(
            ws,
            key_of(ws),
            outcome="duplicates",
            candidate_ids=["cus-1", "cus-2"],
            display_name="Karim",
        ),
    )
    assert await service.conversations() == []
    await service.receive(a_message_received(workspace_id=ws, profile_name="Karim W"))
    [row] = await service.conversations()
    assert row["customer"]["candidate_ids"] == ["cus-1", "cus-2"]
    assert row["display_name"] == "Karim W"


async def test_an_unreadable_event_is_dead_lettered_counted_and_skipped(service: Service) -> None:
    await service.broker.publish(
        {"type": "whatsapp.message.received", "id": 3}, topics.WHATSAPP_INBOUND
    )
    await service.receive(a_message_received(workspace_id=service.workspace))
    assert len(await service.conversations()) == 1
    [letter] = service.letters
    assert (letter["data"]["topic"], letter["data"]["reason"], letter["data"]["group"]) == (
        topics.WHATSAPP_INBOUND,
        "invalid_event",
        "inbox",
    )
    metrics = (await service.http.get("/metrics")).text
    assert (
        'hanout_dead_lettered_events_total{reason="invalid_event",topic="whatsapp.inbound.v1"} 1.0'
        in metrics
    )


async def test_an_unknown_event_type_on_the_topic_is_skipped_not_retried(service: Service) -> None:
    body = a_message_received(workspace_id=service.workspace).model_dump(mode="json")
    body["type"] = "whatsapp.something.later"
    await service.broker.publish(body, topics.WHATSAPP_INBOUND)
    assert await service.conversations() == []


def test_the_consumer_groups_follow_the_setting_and_are_the_ones_named_for_devtools() -> None:
    store: Any = FakeStore()
    for group in ("inbox", "inbox-eu"):
        broker = KafkaBroker()
        create_app(InboxSettings(consumer_group=group), broker=broker, store=store)
        subscribers: list[Any] = list(broker.subscribers)
        names = {s.group_id: [t.name for t in s.topics] for s in subscribers}
        [live] = [name for name in names if name.startswith(f"{group}-live-")]
        assert names.pop(live) == [topics.INBOX_EVENTS]
        assert names == durable_groups(group)


async def test_a_match_never_overwrites_the_number_the_contact_wrote_from(service: Service) -> None:
    ws = service.workspace
    await service.receive(a_message_received(workspace_id=ws))
    card_number = "+212661234567"
    await service.deliver(
        topics.CUSTOMERS_EVENTS,
        contact_matched(
            ws, key_of(ws), outcome="known", customer_id="cus-1", phone_e164=card_number
        ),
    )
    [row] = await service.conversations()
    assert row["phone_e164"] == "+" + WA_ID
    assert [r["id"] for r in await service.conversations(q="0661234567")] == [row["id"]]
