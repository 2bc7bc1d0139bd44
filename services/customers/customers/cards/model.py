"""The card's pure rules: its fields as typed and as stored, its keys, edits, learned identities
and stats from orders."""

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from customers.matching.model import key_of, phone_key
from hanout_shared.contracts.customers import CustomerCard, Identity, Phone
from hanout_shared.contracts.orders import NOT_SPENT_STATES, OrderSummary
from hanout_shared.platform.phones import DEFAULT_REGION, InvalidPhone, parse_phone

STATS_CURRENCY = "MAD"
CENTIME = Decimal("0.01")
DEFAULT_STATUSES = ("VIP", "at risk", "to recontact", "blacklisted")
EDITABLE_FIELDS = ("name", "phones", "identities", "city", "address", "tags", "status")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Stats(Frozen):
    orders_count: int = Field(default=0, description="Orders placed, whatever their stage")
    not_spent_count: int = Field(default=0, description="Of which cancelled or returned")
    total_spent: Decimal = Field(default=Decimal(0), description="MAD, exact, as a string")
    currency: str = STATS_CURRENCY
    last_order_at: datetime | None = None


class OrderRow(Frozen):
    """The latest version of one order, as far as the customers service has seen it."""

    order_id: str
    customer_id: str
    total: Decimal
    currency: str
    state: str
    placed_at: datetime
    version: int

    @field_validator("total")
    @classmethod
    def _whole_centimes(cls, total: Decimal) -> Decimal:
        """Stats add exact centimes; a finer amount is an order no shop can be paid."""
        if total != total.quantize(CENTIME):
            raise ValueError("an order total is a whole number of centimes")
        return total

    @classmethod
    def of(cls, order: OrderSummary) -> "OrderRow":
        return cls(state=order.stage.state, **order.model_dump(include=_ORDER_FIELDS))


_ORDER_FIELDS = {"order_id", "customer_id", "total", "currency", "placed_at", "version"}


class Customer(Frozen):
    customer_id: str
    workspace_id: str
    name: str | None = None
    phones: list[Phone] = []
    identities: list[Identity] = []
    city: str | None = None
    address: str | None = None
    tags: list[str] = []
    status: str | None = None
    archived: bool = False
    merged_into: str | None = Field(default=None, description="Set on a merged-away tombstone")
    merged_ids: list[str] = Field(default=[], description="Records merged into this one")
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime
    updated_by: str | None = None
    version: int = 1
    stats: Stats = Stats()

    def keys(self) -> list[str]:
        found = [phone_key(phone.e164) for phone in self.phones]
        found += [key_of(i) for i in self.identities]
        return list(dict.fromkeys(found))

    def card(self) -> CustomerCard:
        return CustomerCard(customer_id=self.customer_id, **self.model_dump(include=_CARD_FIELDS))

    def touched(self, actor: str | None, now: datetime, **changes: Any) -> "Customer":
        return self.model_copy(
            update={**changes, "updated_at": now, "updated_by": actor, "version": self.version + 1}
        )


_CARD_FIELDS = set(CustomerCard.model_fields) - {"customer_id"}


class WorkspaceSettings(Frozen):
    statuses: list[str] = list(DEFAULT_STATUSES)
    default_region: str = Field(default=DEFAULT_REGION, description="ISO code, e.g. MA, FR")


def unite(first: Iterable[Any], second: Iterable[Any], key: Any = None) -> list[Any]:
    """Items of both, first ones first, without repeats (by `key` when given)."""
    seen: dict[Any, Any] = {}
    for item in [*first, *second]:
        seen.setdefault(key(item) if key else item, item)
    return list(seen.values())


def changed_fields(before: Customer, after: Customer) -> list[str]:
    return [f for f in EDITABLE_FIELDS + ("archived",) if getattr(before, f) != getattr(after, f)]


def learn(customer: Customer, identities: Sequence[Identity], now: datetime) -> Customer | None:
    """The customer with the identities it did not have yet, or None if it knew them all."""
    known = set(customer.keys())
    new = [i for i in identities if key_of(i) not in known]
    if not new:
        return None
    return customer.touched(None, now, identities=unite(customer.identities, new, key_of))


def compute_stats(rows: Iterable[OrderRow]) -> Stats:
    count = not_spent = 0
    spent, last = Decimal(0), None
    for row in rows:
        count += 1
        last = max(last or row.placed_at, row.placed_at)
        if row.state in NOT_SPENT_STATES:
            not_spent += 1
        elif row.currency == STATS_CURRENCY:
            spent += row.total
    return Stats(
        orders_count=count, not_spent_count=not_spent, total_spent=spent, last_order_at=last
    )


class Invalid(ValueError):
    """A value refused at the edge, with the field it came from."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message


class CardFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phones: list[str] = Field(default=[], max_length=10, description="Any format; normalised")
    identities: list[Identity] = Field(default=[], max_length=20)
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=500)
    tags: list[str] = Field(default=[], max_length=50)
    status: str | None = Field(default=None, description="One of the workspace's statuses")


class CustomerDraft(CardFields):
    conversation_key: str | None = Field(
        default=None, description="The conversation this card was created from, to re-match it"
    )


class CustomerPatch(CardFields):
    archived: bool | None = None
    version: int | None = Field(default=None, description="Refuse (409) if the card moved on")


def phones_of(raws: Sequence[str], region: str) -> list[Phone]:
    phones = []
    for index, raw in enumerate(raws):
        try:
            phones.append(Phone(e164=parse_phone(raw, region).e164, raw=raw))
        except InvalidPhone as exc:
            raise Invalid("invalid_phone", f"phones.{index}", str(exc)) from exc
    return unite([], phones, lambda p: p.e164)


def _clean(fields: CardFields, names: Iterable[str], settings: WorkspaceSettings) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(fields, name)
        if isinstance(value, str):
            value = value.strip() or None
        values[name] = value
    if "phones" in values:
        values["phones"] = phones_of(fields.phones, settings.default_region)
    if "tags" in values:
        values["tags"] = unite([], [t.strip() for t in fields.tags if t.strip()])
    if values.get("status") and values["status"] not in settings.statuses:
        allowed = ", ".join(settings.statuses)
        raise Invalid("unknown_status", "status", f"Status must be one of: {allowed}")
    for index, identity in enumerate(values.get("identities") or []):
        if not identity.value.strip():
            raise Invalid("invalid_identity", f"identities.{index}", "An identity needs a value")
    return values


def new_customer(
    draft: CardFields, settings: WorkspaceSettings, *, workspace_id: str, actor: str, now: datetime
) -> Customer:
    values = _clean(draft, CardFields.model_fields, settings)
    stamp = {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
    return Customer(customer_id=new_customer_id(now), workspace_id=workspace_id, **stamp, **values)


def new_customer_id(now: datetime) -> str:
    """Time-ordered, so the newest-first list pages on the id alone."""
    return f"cus_{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}"


def patched(
    customer: Customer, patch: CustomerPatch, settings: WorkspaceSettings, actor: str, now: datetime
) -> Customer:
    names = patch.model_fields_set & set(EDITABLE_FIELDS)
    values = _clean(patch, names, settings)
    if patch.archived is not None:
        values["archived"] = patch.archived
    return customer.touched(actor, now, **values)
