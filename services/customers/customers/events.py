"""What customers publishes on customers.events.v1: the publisher, the fields every event
carries, and the events a card's changes announce, each under an id derived from the change."""

from typing import Any

from faststream.kafka import KafkaRouter

from customers.cards.model import Customer
from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.customers import (
    CustomerCreated,
    CustomerCreatedEvent,
    CustomersEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
)
from hanout_shared.platform.auth import Principal
from hanout_shared.platform.logs import correlation_id

SOURCE = "hanout/customers"
# Both subscribers take batches: under a burst one store round trip and one wait for Kafka's
# acks serve many events.
BATCH_RECORDS = 200

router = KafkaRouter()
customer_events = router.publisher(
    topics.CUSTOMERS_EVENTS,
    title="customers.events.v1",
    description="customers.customer.created/updated/merged (key: customer id) and "
    "customers.contact.matched (key: conversation key)",
    schema=CustomersEvent,
)


def event_fields(customer: Customer, agent: Principal) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "workspaceid": customer.workspace_id,
        "subject": customer.customer_id,
        "actorid": agent.agent_id,
        "actorname": agent.name,
        "correlationid": correlation_id.get(),
    }


def created(customer: Customer, agent: Principal, **fields: Any) -> CustomerCreatedEvent:
    data = CustomerCreated(customer=customer.card())
    event_id = deterministic_id(customer.customer_id, "created")
    return CustomerCreatedEvent.create(
        data=data, id=event_id, **{**event_fields(customer, agent), **fields}
    )


def updated(customer: Customer, changed: list[str], agent: Principal) -> CustomerUpdatedEvent:
    """One per version of the card: the version makes the id."""
    data = CustomerUpdated(customer=customer.card(), changed_fields=changed)
    event_id = deterministic_id(customer.customer_id, "updated", customer.version)
    return CustomerUpdatedEvent.create(data=data, id=event_id, **event_fields(customer, agent))
