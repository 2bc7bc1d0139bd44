"""No event lost after a write: Kafka refuses, the change is kept with its events, and the relay
publishes each of them exactly once, under its id, when Kafka is back."""

from collections.abc import Iterator
from typing import Any

import pytest

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform import outbox

from .builders import a_message_from
from .conftest import Service


class Kafka:
    """The relay's way to Kafka, refusing every event, or only those of some types."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch, self._real = monkeypatch, outbox.publish_event
        self.refused: list[str] = []

    def down(self, *types: str) -> None:
        async def publish(publisher: Any, event: CloudEvent) -> None:
            if types and event.type not in types:
                return await self._real(publisher, event)
            self.refused.append(event.id)
            raise ConnectionError("broker unreachable")

        self._monkeypatch.setattr(outbox, "publish_event", publish)

    def back(self) -> None:
        self._monkeypatch.setattr(outbox, "publish_event", self._real)


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kafka]:
    yield Kafka(monkeypatch)


async def create(service: Service, **card: Any) -> dict[str, Any]:
    response = await service.http.post("/customers", json=card, headers=service.headers())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(service: Service, kind: str) -> list[str]:
    return [event["id"] for event in service.published(kind)]


async def test_a_card_created_while_kafka_is_down_is_kept_then_announced_once(
    service: Service, kafka: Kafka
) -> None:
    kafka.down()
    card = await create(service, name="Karim", phones=["0612345678"])
    expected = deterministic_id(card["customer_id"], "created")
    assert kafka.refused == [expected] and service.published() == []
    kafka.back()
    assert await service.relay.sweep(settled_s=0) == 0
    assert await service.relay.sweep(settled_s=0) == 0  # nothing left: a second sends nothing
    assert ids(service, "customers.customer.created") == [expected]
    assert await service.store.customers.outbox.pending(card["customer_id"]) == []


async def test_only_the_events_kafka_refused_are_sent_again(service: Service, kafka: Kafka) -> None:
    kafka.down("customers.contact.matched")
    key = f"{service.workspace}:110928374650192:212612345678"
    card = await create(service, name="Karim", phones=["0612345678"], conversation_key=key)
    [refused] = kafka.refused
    assert ids(service, "customers.customer.created") != []
    kafka.back()
    await service.relay.sweep(settled_s=0)
    assert len(ids(service, "customers.customer.created")) == 1
    assert ids(service, "customers.contact.matched") == [refused]
    [matched] = service.published("customers.contact.matched")
    assert (matched["subject"], matched["data"]["customer_id"]) == (key, card["customer_id"])


async def test_an_edit_and_a_merge_made_while_kafka_is_down_are_announced_once_it_is_back(
    service: Service, kafka: Kafka
) -> None:
    survivor = (await create(service, name="Karim", phones=["0612345678"]))["customer_id"]
    absorbed = (await create(service, phones=["+212612345678"]))["customer_id"]
    kafka.down()
    edit = await service.http.patch(
        f"/customers/{survivor}", json={"city": "Fès"}, headers=service.headers()
    )
    merged = await service.http.post(
        f"/customers/{survivor}/merge", json={"absorbed_ids": [absorbed]}, headers=service.headers()
    )
    assert (edit.status_code, merged.status_code) == (200, 200)
    assert service.published("customers.customer.updated") == []
    kafka.back()
    await service.relay.sweep(settled_s=0)
    assert ids(service, "customers.customer.updated") == [deterministic_id(survivor, "updated", 2)]
    [event] = service.published("customers.customer.merged")
    assert event["id"] == deterministic_id("merge", service.workspace, survivor, absorbed)
    assert event["data"]["survivor"]["city"] == "Fès"
    # The edit's event was refused twice (after the edit, after the merge); the merge's waited
    # behind it, so the card's events still arrive in the order they were written.
    assert [e["type"].rsplit(".", 1)[1] for e in service.published()[-2:]] == ["updated", "merged"]


async def test_an_identity_learned_while_kafka_is_down_is_announced_once_it_is_back(
    service: Service, kafka: Kafka
) -> None:
    customer_id = (await create(service, name="Karim", phones=["0612345678"]))["customer_id"]
    message = a_message_from(service.workspace, user_id="MA.99")
    kafka.down("customers.customer.updated")
    await service.deliver_message(message)
    assert service.published("customers.customer.updated") == []
    assert len(service.published("customers.contact.matched")) == 1
    kafka.back()
    await service.deliver_message(message)  # a redelivery: nothing more to learn
    await service.relay.sweep(settled_s=0)
    learned = deterministic_id(message.id, "learned", customer_id, 2)
    assert ids(service, "customers.customer.updated") == [learned]
    assert kafka.refused == [learned]
