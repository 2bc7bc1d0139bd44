"""An import's pure rules: the job and its reported rows, and how a spreadsheet's lines become
cards (headers in three languages, separators, encodings, several numbers in a cell)."""

import csv
import re
import unicodedata
from collections.abc import Iterator
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
from hanout_shared.platform.phones import InvalidPhone, parse_phone

OnDuplicate = Literal["skip", "create"]

# Header names seen in shops' spreadsheets (English, French, Arabic), folded like _fold does.
COLUMNS = {
    "name": ("name", "nom", "fullname", "nomcomplet", "client", "customer", "الاسم"),
    "phones": ("phone", "phones", "telephone", "tel", "mobile", "gsm", "numero", "الهاتف"),
    "city": ("city", "ville", "المدينة"),
    "address": ("address", "adresse", "العنوان"),
    "tags": ("tags", "tag", "etiquettes", "labels"),
    "status": ("status", "statut"),
}
_ALIASES = {alias: field for field, names in COLUMNS.items() for alias in names}


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
    errors: int = 0
    message: str | None = Field(default=None, description="Why a failed import stopped")


class ImportRow(Frozen):
    """One row that did not simply become a new card (an error or a duplicate)."""

    row: int = Field(description="Line of the file, the header being line 1")
    outcome: Literal["error", "duplicate"]
    code: str
    message: str
    field: str | None = None
    duplicate_of: list[str] = []
    customer_id: str | None = Field(default=None, description="Created anyway (on_duplicate)")


def _fold(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header.casefold())
    return "".join(ch for ch in plain if ch.isalnum() and not unicodedata.combining(ch))


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")  # Excel's "CSV" on a French Windows


def read_rows(lines: Iterator[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, card fields) of each non-empty row; the header names the columns."""
    header = _decode(next(lines, b""))
    delimiter = max(";,\t", key=header.count)
    columns = [_ALIASES.get(_fold(h)) for h in next(csv.reader([header], delimiter=delimiter))]
    if "name" not in columns and "phones" not in columns:
        raise ValueError("The first line must name the columns, with at least name or phone")
    reader = csv.reader((_decode(line) for line in lines), delimiter=delimiter)
    while True:
        first_line = reader.line_num + 2  # the header is line 1; a quoted cell may span lines
        cells = next(reader, None)
        if cells is None:
            return
        cell = {c: v.strip() for c, v in zip(columns, cells, strict=False) if c and v.strip()}
        if cell:
            yield first_line, {k: _split(k, v) for k, v in cell.items()}


def _split(column: str, value: str) -> str | list[str]:
    """Several phones or tags in one cell, the way people type them ("06.. / 07..")."""
    if column == "tags":
        return [v.strip() for v in re.split(r"[;|,]", value) if v.strip()]
    if column != "phones":
        return value
    try:
        parse_phone(value)
        return [value]  # one number written with slashes, e.g. 06/12/34/56/78
    except InvalidPhone:
        return [v.strip() for v in re.split(r"[/;|,\n]", value) if v.strip()]


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


def duplicate_row(line: int, same: list[str], created: str | None) -> ImportRow:
    message = "Same number or identity as an existing card"
    fields = {"duplicate_of": same, "customer_id": created}
    return ImportRow(row=line, outcome="duplicate", code="duplicate", message=message, **fields)
