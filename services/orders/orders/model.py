"""Orders' domain values and pure rules: orders, their history, pipelines of stages, and what an
agent asks for (a new order, an edit, a pipeline)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.contracts.orders import STANDARD_STATES, OrderLine, Stage

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PaymentMethod = Literal["cash_on_delivery", "prepaid", "bank_transfer", "card"]
Kind = Literal["created", "edited", "stage_changed", "cancelled", "customer_repointed"]

StageId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
StateName = Annotated[str, Field(json_schema_extra={"enum": list(STANDARD_STATES)})]


class PipelineStage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: StageId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    color: Color = Field(description="Badge colour, #rrggbb")
    position: int = Field(ge=0, le=1000)
    state: StateName = Field(description="The standard state this stage maps to")

    def snapshot(self) -> Stage:
        return Stage(id=self.id, name=self.name, color=self.color, state=self.state)


class PipelineSpec(BaseModel):
    """What an admin sends to replace the pipeline."""

    stages: list[PipelineStage] = Field(min_length=2, max_length=30)
    transitions: dict[StageId, list[StageId]] | None = Field(
        default=None, description="Allowed moves, from stage id to stage ids; null allows any move"
    )
    expected_version: int | None = Field(default=None, ge=0, description="Refuse if stale")


class Pipeline(BaseModel):
    model_config = ConfigDict(frozen=True)

    workspace_id: str
    stages: list[PipelineStage]
    transitions: dict[str, list[str]] | None = None
    version: int = Field(default=0, description="0 until the workspace customises its pipeline")

    def stage(self, stage_id: str) -> PipelineStage | None:
        return next((stage for stage in self.stages if stage.id == stage_id), None)

    def first_in(self, state: str) -> PipelineStage:
        return min((s for s in self.stages if s.state == state), key=lambda s: s.position)

    def current(self, snapshot: Stage) -> Stage:
        """The stage as the pipeline names and colours it today (the snapshot if it is gone)."""
        stage = self.stage(snapshot.id)
        return stage.snapshot() if stage else snapshot

    def allows(self, from_id: str, to_id: str) -> bool:
        if self.transitions is None or self.stage(from_id) is None:
            return True
        return to_id in self.transitions.get(from_id, [])


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str


class Cause(BaseModel):
    """Who and what caused a change: goes into history and onto the events."""

    model_config = ConfigDict(frozen=True)

    actor: Actor | None
    at: datetime
    correlation_id: str | None = None


class LineIn(BaseModel):
    name: Name = Field(description="Product name")
    sku: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    quantity: int = Field(ge=1, le=100_000)
    unit_price: Money = Field(description="MAD, exact decimal (string or number)")


class OrderFields(BaseModel):
    """The fields an agent enters, on creation and on edit."""

    lines: list[LineIn] = Field(min_length=1, max_length=200)
    shipping_fee: Money = Field(default=Decimal("0"), description="MAD, part of the total")
    total: Money | None = Field(default=None, description="If sent, must equal the computed one")
    shipping_city: Name | None = None
    shipping_address: Text | None = None
    payment_method: PaymentMethod = "cash_on_delivery"
    note: Text | None = None


class NewOrder(OrderFields):
    customer_id: Name
    conversation_key: Name | None = Field(default=None, description="The chat it came from")
    phone_number_id: Name | None = Field(
        default=None,
        description="The business number (phone_number_id) the conversation is on; send it "
        "with conversation_key. Older clients that omit it get it read from the key.",
    )


class OrderPatch(BaseModel):
    """An edit: only the fields sent change; null clears the city, address or note."""

    customer_id: Name | None = None
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=200)
    shipping_fee: Money | None = None
    total: Money | None = Field(default=None, description="If sent, must equal the computed one")
    shipping_city: Name | None = None
    shipping_address: Text | None = None
    payment_method: PaymentMethod | None = None
    note: Text | None = None
    expected_version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class HistoryEntry(BaseModel):
    """One line of the audit trail; stages are snapshots as they were at the time."""

    kind: Kind
    at: datetime
    by: Actor | None
    version: int
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    seconds_in_previous_stage: float | None = None
    changed_fields: list[str] = []
    reason: str | None = None


class Order(BaseModel):
    id: str
    workspace_id: str
    number: int
    label: str = Field(description="Human order number, e.g. #1042")
    customer_id: str
    conversation_key: str | None = None
    phone_number_id: str | None = None
    lines: list[OrderLine]
    shipping_fee: Decimal
    total: Decimal
    currency: str = "MAD"
    shipping_city: str | None = None
    shipping_address: str | None = None
    payment_method: str = "cash_on_delivery"
    note: str | None = None
    stage: Stage
    stage_entered_at: datetime
    placed_at: datetime
    created_by: Actor | None
    updated_at: datetime
    updated_by: Actor | None
    cancel_reason: str | None = None
    version: int = Field(description="Send it back as If-Match (or expected_version)")


class OrderDetail(Order):
    history: list[HistoryEntry]


class Change(NamedTuple):
    """An order after a change, the history entry recording it, and the events it emits."""

    order: Order
    entry: HistoryEntry
    events: list[CloudEvent]


_DEFAULT_STAGES = (
    ("new", "Nouvelle", "#3b82f6", "new"),
    ("confirmed", "Confirmée", "#8b5cf6", "confirmed"),
    ("shipped", "Expédiée", "#f59e0b", "shipped"),
    ("delivered", "Livrée", "#16a34a", "delivered"),
    ("failed", "Échec de livraison", "#dc2626", "failed"),
    ("returned", "Retournée", "#f97316", "returned"),
    ("cancelled", "Annulée", "#6b7280", "cancelled"),
)


# Built once: stages are frozen, and a create in a workspace without its own pipeline needs them.
_DEFAULT_PIPELINE_STAGES = [
    PipelineStage(id=id_, name=name, color=color, position=index * 10, state=state)
    for index, (id_, name, color, state) in enumerate(_DEFAULT_STAGES)
]


def default_pipeline(workspace_id: str) -> Pipeline:
    return Pipeline(workspace_id=workspace_id, stages=list(_DEFAULT_PIPELINE_STAGES))


def label(number: int) -> str:
    return f"#{number}"


def parse_number(text: str) -> int | None:
    digits = text.strip().removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) < 12 else None


def phone_number_id_of(conversation_key: str | None) -> str | None:
    """The business number inside a conversation key (workspace:phone_number_id:contact,
    ARCHITECTURE.md §2): only for older clients that send the key without phone_number_id."""
    parts = (conversation_key or "").split(":")
    return parts[1] if len(parts) == 3 and parts[1] else None
