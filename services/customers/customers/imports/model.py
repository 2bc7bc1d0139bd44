"""An import's pure rules: the job, its reported rows, and how a row's values become a card."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from customers.cards.model import (
    CardFields,
    Customer,
    Frozen,
    Invalid,
    WorkspaceSettings,
    new_customer,
)
from hanout_shared.platform.auth import Principal

OnDuplicate = Literal["skip", "create"]


class ImportJob(Frozen):
    import_id: str
    state: Literal["running", "completed", "failed", "interrupted"]
    on_duplicate: OnDuplicate
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    bytes_total: int = Field(description="Size of the uploaded file")
    bytes_read: int = Field(default=0, description="How far the import has gone: progress")
    rows: int = 0
    created: int = 0
    duplicates: int = Field(default=0, description="Rows matching an existing card")
    errors: int = Field(default=0, description="Rows refused, each reported with its reason")
    flagged: int = Field(
        default=0,
        description="Rows imported with a text starting like a spreadsheet formula "
        "(=, +, -, @): kept as typed, reported, and neutralised in every CSV export",
    )
    message: str | None = Field(default=None, description="Why a failed import stopped")


class ImportRow(Frozen):
    """One row that did not simply become a new card (an error or a duplicate)."""

    row: int = Field(description="Line of the file, the header being line 1")
    outcome: Literal["error", "duplicate", "flagged"]
    code: str
    message: str
    field: str | None = None
    duplicate_of: list[str] = []
    customer_id: str | None = Field(
        default=None, description="The card created from it (a duplicate: on_duplicate=create)"
    )
    flagged: list[str] = Field(
        default=[], description="Its text fields starting like a spreadsheet formula"
    )


def parse_row(
    line: int,
    values: dict[str, Any],
    settings: WorkspaceSettings,
    agent: Principal,
    now: datetime,
) -> Customer | ImportRow:
    if not values.get("name") and not values.get("phones"):
        return error_row(line, "empty_card", "A row needs a name or a phone")
    try:
        fields = CardFields.model_validate(values)
        ws, actor = agent.workspace_id, agent.agent_id
        return new_customer(fields, settings, workspace_id=ws, actor=actor, now=now)
    except Invalid as exc:
        return error_row(line, exc.code, exc.message, exc.field)
    except ValidationError as exc:
        error = exc.errors()[0]
        return error_row(line, "invalid_value", error["msg"], ".".join(map(str, error["loc"])))


def error_row(line: int, code: str, message: str, field: str | None = None) -> ImportRow:
    return ImportRow(row=line, outcome="error", code=code, message=message, field=field)


def duplicate_row(line: int, same: list[str], created: str | None, flagged: list[str]) -> ImportRow:
    message = "Same number or identity as an existing card"
    fields = {"duplicate_of": same, "customer_id": created, "flagged": flagged}
    return ImportRow(row=line, outcome="duplicate", code="duplicate", message=message, **fields)


def flagged_row(line: int, created: str, flagged: list[str]) -> ImportRow:
    message = f"Starts like a spreadsheet formula: {', '.join(flagged)} (kept as typed)"
    fields = {"customer_id": created, "flagged": flagged, "field": flagged[0]}
    return ImportRow(row=line, outcome="flagged", code="formula", message=message, **fields)
