"""The contracts: envelope, tolerant reading, deterministic ids and committed schema snapshots."""

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from devtools.schemas import all_events, stale_snapshots
from hanout_shared.contracts import UnknownEvent, deterministic_id
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    InboundEvent,
    MessageReceived,
    MessageReceivedEvent,
    conversation_key,
)

inbound = TypeAdapter(InboundEvent)


def a_message_received() -> MessageReceivedEvent:
    key = conversation_key("ws-1", "110928374650192", "212612345678")
    data = MessageReceived(
        conversation_key=key,
        wamid="wamid.HBgM",
        channel=Channel(phone_number_id="110928374650192"),
        contact=ContactIdentity(wa_id="212612345678", profile_name="Karim"),
        message_type="text",
        sent_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        text="Salam, bghit nchri",
    )
    return MessageReceivedEvent.create(
        source="hanout/ingest",
        workspaceid="ws-1",
        subject=key,
        data=data,
        id=deterministic_id("wamid.HBgM", "received"),
        time=data.sent_at,
    )


def test_every_event_is_a_cloudevent_with_its_type_pinned() -> None:
    event = a_message_received()
    body = event.model_dump(mode="json")
    assert body["specversion"] == "1.0"
    assert body["type"] == "whatsapp.message.received"
    assert body["time"] == "2026-07-01T10:00:00Z"
    assert body["workspaceid"] == "ws-1"
    assert body["dataschemaversion"] == 1


def test_events_are_frozen() -> None:
    event = a_message_received()
    with pytest.raises(ValidationError):
        event.id = "other"  # type: ignore[misc]


def test_consumers_ignore_fields_they_do_not_know() -> None:
    body = a_message_received().model_dump(mode="json")
    body["brandnewattribute"] = "x"
    body["data"]["brand_new_field"] = {"nested": True}
    parsed = inbound.validate_python(body)
    assert isinstance(parsed, MessageReceivedEvent)
    assert parsed.data.text == "Salam, bghit nchri"


def test_an_unknown_event_type_is_read_as_unknown_rather_than_rejected() -> None:
    body = a_message_received().model_dump(mode="json")
    body["type"] = "whatsapp.something.new"
    parsed = inbound.validate_python(body)
    assert isinstance(parsed, UnknownEvent)
    assert parsed.type == "whatsapp.something.new"


def test_a_known_type_with_a_broken_payload_is_still_an_error() -> None:
    body = a_message_received().model_dump(mode="json")
    del body["data"]["wamid"]
    with pytest.raises(ValidationError):
        inbound.validate_python(body)


def test_deterministic_ids_are_stable_and_distinguish_their_parts() -> None:
    assert deterministic_id("wamid.A", "read") == deterministic_id("wamid.A", "read")
    assert deterministic_id("wamid.A", "read") != deterministic_id("wamid.A", "delivered")
    assert deterministic_id("ab", "c") != deterministic_id("a", "bc")
    with pytest.raises(ValueError):
        deterministic_id()


def test_partition_key_is_the_subject() -> None:
    event = a_message_received()
    assert event.key() == b"ws-1:110928374650192:212612345678"


def test_every_contract_has_a_committed_schema_snapshot() -> None:
    assert all_events(), "no event contracts found"
    stale = stale_snapshots()
    assert not stale, f"contracts changed without their snapshot (run `make schemas`): {stale}"
