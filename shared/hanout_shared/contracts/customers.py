"""Customer events produced by the customers service on customers.events.v1 (key: customer id)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from hanout_shared.contracts.envelope import CloudEvent, Contract, event_union


class Phone(Contract):
    e164: str = Field(description="Normalised number, e.g. +212612345678")
    raw: str = Field(description="The number as it was entered")


class Identity(Contract):
    """A key that identifies a customer on WhatsApp. `kind` may grow: wa_id, bsuid, username."""

    kind: str
    value: str
    scope: str | None = Field(
        default=None,
        description="Where the value is unique: a BSUID's business number (phone_number_id)",
    )


class CustomerCard(Contract):
    customer_id: str
    name: str | None = None
    phones: list[Phone] = []
    identities: list[Identity] = []
    city: str | None = None
    address: str | None = None
    tags: list[str] = []
    status: str | None = None
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = Field(description="Grows with every change; consumers keep the highest seen")


class CustomerCreated(Contract):
    customer: CustomerCard


class CustomerUpdated(Contract):
    customer: CustomerCard
    changed_fields: list[str]


class CustomerMerged(Contract):
    """`absorbed_ids` now resolve to `survivor_id`: re-point anything that referenced them."""

    survivor_id: str
    absorbed_ids: list[str]
    survivor: CustomerCard


class ContactMatched(Contract):
    """Who a conversation's contact is, as far as the customer base can tell."""

    conversation_key: str
    phone_number_id: str | None = Field(
        default=None, description="The business number the conversation is on"
    )
    outcome: Literal["known", "unknown", "duplicates"]
    customer_id: str | None = Field(default=None, description="Set when the outcome is known")
    candidate_ids: list[str] = Field(default=[], description="Set when there are duplicates")
    display_name: str | None = Field(default=None, description="Card name, else WhatsApp name")
    phone_e164: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None
    profile_name: str | None = None
    identities: list[Identity] = Field(
        default=[], description="The contact's identity keys, to pre-fill a new card"
    )


class CustomerCreatedEvent(CloudEvent):
    type: Literal["customers.customer.created"] = "customers.customer.created"
    dataschemaversion: Literal[1] = 1
    data: CustomerCreated


class CustomerUpdatedEvent(CloudEvent):
    type: Literal["customers.customer.updated"] = "customers.customer.updated"
    dataschemaversion: Literal[1] = 1
    data: CustomerUpdated


class CustomerMergedEvent(CloudEvent):
    type: Literal["customers.customer.merged"] = "customers.customer.merged"
    dataschemaversion: Literal[1] = 1
    data: CustomerMerged


class ContactMatchedEvent(CloudEvent):
    type: Literal["customers.contact.matched"] = "customers.contact.matched"
    dataschemaversion: Literal[1] = 1
    data: ContactMatched


CustomersEvent = event_union(
    [CustomerCreatedEvent, CustomerUpdatedEvent, CustomerMergedEvent, ContactMatchedEvent]
)
