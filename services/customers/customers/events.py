"""The events an agent's change announces, each under an id derived from the change itself."""

from typing import Any

from customers.model import Customer
from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.customers import (
    ContactMatched,
    ContactMatchedEvent,
    CustomerCreated,
    CustomerCreatedEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
)
from hanout_shared.platform.auth import Principal
from hanout_shared.platform.logs import correlation_id

SOURCE = "hanout/customers"


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


def matched(customer: Customer, conversation_key: str, agent: Principal) -> ContactMatchedEvent:
    """The conversation the card was created from now knows its customer."""
    data = ContactMatched(
        conversation_key=conversation_key,
        outcome="known",
        customer_id=customer.customer_id,
        display_name=customer.name,
        phone_e164=customer.phones[0].e164 if customer.phones else None,
    )
    fields = {**event_fields(customer, agent), "subject": conversation_key}
    return ContactMatchedEvent.create(
        data=data, id=deterministic_id(customer.customer_id, conversation_key), **fields
    )
