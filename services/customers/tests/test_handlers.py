"""Automatic detection and stats: the Kafka handlers on the in-memory broker and a fake store."""

import json
from decimal import Decimal
from typing import Any

from faststream.kafka import KafkaBroker

from customers.app import create_app
from customers.settings import CustomersSettings
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import Identity
from hanout_shared.contracts.envelope import CONTENT_TYPE

from .builders import (
    PHONE_NUMBER_ID,
    a_message_from,
    an_order,
    order_cancelled,
    order_created,
    token_for,
)
from .conftest import Service
from .fakes import FakeStore


async def create(service: Service, **card: Any) -> str:
    response = await service.http.post("/customers", json=card, headers=service.headers())
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["customer_id"]
    return customer_id


async def test_a_message_from_an_unknown_number_is_matched_unknown_with_its_profile(
    service: Service,
) -> None:
    message = a_message_from(service.workspace, wa_id="212698765432", profile_name="Nadia")
    await service.deliver_message(message)
    [matched] = service.published("customers.contact.matched")
    assert matched["id"] == deterministic_id(message.id, "contact.matched")
    assert matched["subject"] == message.data.conversation_key
    data = matched["data"]
    assert (data["outcome"], data["display_name"], data["phone_e164"]) == (
        "unknown",
        "Nadia",
        "+212698765432",
    )
    lookup = await service.http.get(
        "/customers/lookup", params={"phone": "06 98 76 54 32"}, headers=service.headers()
    )
    assert lookup.json()["contact"]["profile_name"] == "Nadia"


async def test_a_message_from_a_number_typed_in_another_format_finds_the_card(
    service: Service,
) -> None:
    customer_id = await create(service, name="Karim", phones=["06.12.34.56.78"])
    await service.deliver_message(a_message_from(service.workspace, wa_id="212612345678"))
    [matched] = service.published("customers.contact.matched")
    assert matched["data"]["outcome"] == "known"
    assert matched["data"]["customer_id"] == customer_id
    assert matched["data"]["display_name"] == "Karim"


async def test_the_number_ingest_read_finds_the_card_and_the_match_names_the_business_number(
    service: Service,
) -> None:
    customer_id = await create(service, name="Karim", phones=["06.12.34.56.78"])
    # A wa_id the parser would not read (no country code): the event's number is what counts.
    message = a_message_from(service.workspace, wa_id="0612345678", phone_e164="+212612345678")
    await service.deliver_message(message)
    [matched] = service.published("customers.contact.matched")
    assert (matched["data"]["outcome"], matched["data"]["customer_id"]) == ("known", customer_id)
    assert matched["data"]["phone_e164"] == "+212612345678"
    assert matched["data"]["phone_number_id"] == PHONE_NUMBER_ID


async def test_a_bsuid_only_contact_is_matched_by_its_bsuid_once_known(service: Service) -> None:
    bsuid = Identity(kind="bsuid", value="MA.4471029384756", scope=PHONE_NUMBER_ID)
    customer_id = await create(service, name="Youssef", identities=[bsuid.model_dump()])
    await service.deliver_message(
        a_message_from(service.workspace, wa_id=None, user_id=bsuid.value)
    )
    [matched] = service.published("customers.contact.matched")
    assert (matched["data"]["outcome"], matched["data"]["customer_id"]) == ("known", customer_id)
    assert "phone_e164" not in matched["data"]


async def test_a_card_of_another_workspace_with_the_same_number_is_not_a_match(
    service: Service,
) -> None:
    response = await service.http.post(
        "/customers", json={"name": "Karim", "phones": ["0612345678"]}, headers=token_for("other")
    )
    assert response.status_code == 201
    await service.deliver_message(a_message_from(service.workspace))
    [matched] = service.published("customers.contact.matched")
    assert matched["data"]["outcome"] == "unknown"


async def test_a_number_shared_by_two_cards_is_matched_as_duplicates(service: Service) -> None:
    first = await create(service, name="Karim", phones=["0612345678"])
    second = await create(service, name="Karim A.", phones=["+212 612-345678"])
    await service.deliver_message(a_message_from(service.workspace))
    [matched] = service.published("customers.contact.matched")
    assert matched["data"]["outcome"] == "duplicates"
    assert matched["data"]["candidate_ids"] == sorted([first, second])


async def test_a_known_customer_learns_a_new_bsuid_and_username_once(service: Service) -> None:
    customer_id = await create(service, name="Karim", phones=["0612345678"])
    message = a_message_from(service.workspace, user_id="MA.99", username="karim.shop")
    await service.deliver_message(message, message)
    card = (await service.http.get(f"/customers/{customer_id}", headers=service.headers())).json()
    assert [(i["kind"], i["value"]) for i in card["identities"]] == [
        ("bsuid", "MA.99"),
        ("username", "karim.shop"),
    ]
    assert len(service.published("customers.customer.updated")) == 1
    matched = service.published("customers.contact.matched")
    assert len({m["id"] for m in matched}) == 1


async def test_an_identity_learned_in_a_batch_finds_the_card_for_the_next_message_in_it(
    service: Service,
) -> None:
    customer_id = await create(service, name="Karim", phones=["0612345678"])
    both = a_message_from(service.workspace, user_id="MA.42")
    bsuid_only = a_message_from(service.workspace, wa_id=None, user_id="MA.42")
    await service.broker.publish_batch(
        *(json.dumps(m.model_dump(mode="json")).encode() for m in (both, bsuid_only)),
        topic=topics.WHATSAPP_INBOUND,
        headers={"content-type": CONTENT_TYPE},
    )
    outcomes = [
        m["data"].get("customer_id") for m in service.published("customers.contact.matched")
    ]
    assert outcomes == [customer_id, customer_id]


async def test_stats_after_created_cancelled_and_redelivered_events(service: Service) -> None:
    customer_id = await create(service, name="Karim", phones=["0612345678"])
    kept = an_order(customer_id, total="249.90")
    placed = an_order(customer_id, total="120.00")
    cancelled = placed.model_copy(
        update={"version": 2, "stage": placed.stage.model_copy(update={"state": "cancelled"})}
    )
    ws = service.workspace
    await service.deliver_order(
        order_created(ws, kept),
        order_created(ws, placed),
        order_cancelled(ws, cancelled),
        order_created(ws, placed),
        order_created(ws, kept),
    )
    stats = (await service.http.get(f"/customers/{customer_id}", headers=service.headers())).json()[
        "stats"
    ]
    assert (stats["orders_count"], stats["not_spent_count"]) == (2, 1)
    assert Decimal(stats["total_spent"]) == Decimal("249.90")


async def test_an_order_total_finer_than_a_centime_is_counted_and_skipped(
    service: Service,
) -> None:
    customer_id = await create(service, name="Karim", phones=["0612345678"])
    ws = service.workspace
    await service.deliver_order(
        order_created(ws, an_order(customer_id, total="10.005")),
        order_created(ws, an_order(customer_id, total="10.50")),
    )
    card = await service.http.get(f"/customers/{customer_id}", headers=service.headers())
    stats = card.json()["stats"]
    assert stats["orders_count"] == 1 and Decimal(stats["total_spent"]) == Decimal("10.50")
    metrics = (await service.http.get("/metrics")).text
    assert 'customers_skipped_events_total{reason="invalid_amount"} 1.0' in metrics
    assert service.letters == []  # a valid event: skipped by the stats, not dead-lettered


async def test_an_unreadable_event_is_dead_lettered_counted_and_skipped(
    service: Service,
) -> None:
    await service.broker.publish(b"{not json", topics.WHATSAPP_INBOUND)
    await service.broker.publish({"type": "orders.order.created", "id": "x"}, topics.ORDERS_EVENTS)
    letters = [(letter["data"]["topic"], letter["data"]["reason"]) for letter in service.letters]
    assert letters == [
        (topics.WHATSAPP_INBOUND, "undecodable"),
        (topics.ORDERS_EVENTS, "invalid_event"),
    ]
    assert {letter["data"]["group"] for letter in service.letters} == {
        "customers.inbound",
        "customers.orders",
    }
    metrics = (await service.http.get("/metrics")).text
    for topic, reason in letters:
        line = f'hanout_dead_lettered_events_total{{reason="{reason}",topic="{topic}"}}'
        assert f"{line} 1.0" in metrics
    assert service.published() == []


async def test_an_unreadable_record_in_a_batch_does_not_hold_back_the_others(
    service: Service,
) -> None:
    good = a_message_from(service.workspace, wa_id="212698765432")
    await service.broker.publish_batch(
        b"{not json", good.model_dump(mode="json"), topic=topics.WHATSAPP_INBOUND
    )
    [matched] = service.published("customers.contact.matched")
    assert matched["subject"] == good.data.conversation_key
    assert [letter["data"]["reason"] for letter in service.letters] == ["undecodable"]


async def test_a_batch_sent_as_structured_cloudevents_is_matched_record_by_record(
    service: Service,
) -> None:
    # Real producers (ingest, orders) mark each record application/cloudevents+json.
    first = a_message_from(service.workspace, wa_id="212698765432")
    second = a_message_from(service.workspace, wa_id="212655555555")
    await service.broker.publish_batch(
        *(json.dumps(m.model_dump(mode="json")).encode() for m in (first, second)),
        b"{not json",
        topic=topics.WHATSAPP_INBOUND,
        headers={"content-type": CONTENT_TYPE},
    )
    matched = service.published("customers.contact.matched")
    assert [m["subject"] for m in matched] == [
        first.data.conversation_key,
        second.data.conversation_key,
    ]


def test_the_consumer_groups_follow_the_setting() -> None:
    store: Any = FakeStore()
    for group in ("customers-eu", "customers"):
        broker = KafkaBroker()
        create_app(CustomersSettings(consumer_group=group), broker=broker, store=store)
        subscribers: list[Any] = list(broker.subscribers)
        names = {s.group_id: [t.name for t in s.topics] for s in subscribers}
        assert names[f"{group}.inbound"] == [topics.WHATSAPP_INBOUND]
        assert names[f"{group}.orders"] == [topics.ORDERS_EVENTS]
