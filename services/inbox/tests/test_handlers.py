"""The inbox's Kafka handlers against FastStream's in-memory broker and a fake store."""

from datetime import UTC, datetime, timedelta

from faststream.kafka import KafkaBroker, TestKafkaBroker

from hanout_shared.contracts import topics
from inbox.app import create_app
from inbox.settings import InboxSettings

from .builders import a_message_received, random_ref
from .fakes import FakeStore


async def publish(broker: KafkaBroker, *events: object) -> None:
    for event in events:
        await broker.publish(event.model_dump(mode="json"), topics.WHATSAPP_INBOUND)  # type: ignore[attr-defined]


async def test_a_first_message_opens_a_conversation_with_one_unread() -> None:
    store, broker, ws = FakeStore(), KafkaBroker(), random_ref("ws")
    create_app(InboxSettings(), broker=broker, store=store)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker):
        await publish(broker, a_message_received(workspace_id=ws))
    [conversation] = await store.list_for_workspace(ws, 10)
    assert conversation.unread_count == 1
    assert conversation.display_name == "Karim"
    assert conversation.last_message_preview == "Salam, wach kayn had l'produit?"


async def test_a_redelivered_message_changes_nothing() -> None:
    store, broker, ws = FakeStore(), KafkaBroker(), random_ref("ws")
    create_app(InboxSettings(), broker=broker, store=store)  # type: ignore[arg-type]
    event = a_message_received(workspace_id=ws)
    async with TestKafkaBroker(broker):
        await publish(broker, event, event)
    [conversation] = await store.list_for_workspace(ws, 10)
    assert conversation.unread_count == 1


async def test_a_late_older_message_does_not_replace_the_preview() -> None:
    store, broker, ws = FakeStore(), KafkaBroker(), random_ref("ws")
    create_app(InboxSettings(), broker=broker, store=store)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    newer = a_message_received(workspace_id=ws, text="newer", sent_at=now)
    older = a_message_received(workspace_id=ws, text="older", sent_at=now - timedelta(minutes=5))
    async with TestKafkaBroker(broker):
        await publish(broker, newer, older)
    [conversation] = await store.list_for_workspace(ws, 10)
    assert conversation.last_message_preview == "newer"
    assert conversation.unread_count == 2


async def test_an_unknown_event_type_on_the_topic_is_skipped_not_retried() -> None:
    store, broker, ws = FakeStore(), KafkaBroker(), random_ref("ws")
    create_app(InboxSettings(), broker=broker, store=store)  # type: ignore[arg-type]
    body = a_message_received(workspace_id=ws).model_dump(mode="json")
    body["type"] = "whatsapp.something.later"
    async with TestKafkaBroker(broker):
        await broker.publish(body, topics.WHATSAPP_INBOUND)
    assert await store.list_for_workspace(ws, 10) == []
