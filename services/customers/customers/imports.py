"""CSV import of a customer base: the upload is spooled to disk, then read and applied in batches
while the client polls the job; nothing holds the whole file in memory."""

import asyncio
import csv
import itertools
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import ValidationError

from customers import events
from customers.api import ERRORS, now, relay_of, store_of
from customers.matching import InvalidPhone, parse_phone
from customers.model import (
    CardFields,
    Customer,
    ImportJob,
    ImportRow,
    Invalid,
    WorkspaceSettings,
    new_customer,
    unite,
)
from customers.outbox import OutboxRelay
from customers.settings import CustomersSettings
from customers.store import Store
from hanout_shared.contracts import new_event_id
from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.errors import ApiError, not_found

logger = logging.getLogger("hanout.customers.imports")
router = APIRouter(prefix="/customers/imports", tags=["import"])
STALE_AFTER = timedelta(minutes=2)
OnDuplicate = Literal["skip", "create"]
Parsed = tuple[int, Customer | ImportRow]

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
    line: int, values: dict[str, Any], settings: WorkspaceSettings, agent: Principal
) -> Customer | ImportRow:
    if not values.get("name") and not values.get("phones"):
        return _error(line, "empty_card", "A row needs a name or a phone")
    try:
        fields = CardFields.model_validate(values)
        ws, actor = agent.workspace_id, agent.agent_id
        return new_customer(fields, settings, workspace_id=ws, actor=actor, now=now())
    except Invalid as exc:
        return _error(line, exc.code, exc.message, exc.field)
    except ValidationError as exc:
        error = exc.errors()[0]
        return _error(line, "invalid_value", error["msg"], ".".join(map(str, error["loc"])))


def _error(line: int, code: str, message: str, field: str | None = None) -> ImportRow:
    return ImportRow(row=line, outcome="error", code=code, message=message, field=field)


def _duplicate(line: int, same: list[str], created: str | None) -> ImportRow:
    message = "Same number or identity as an existing card"
    fields = {"duplicate_of": same, "customer_id": created}
    return ImportRow(row=line, outcome="duplicate", code="duplicate", message=message, **fields)


def _next_batch(
    rows: Iterator[tuple[int, dict[str, Any]]],
    settings: WorkspaceSettings,
    agent: Principal,
    size: int,
) -> list[Parsed]:
    batch = itertools.islice(rows, size)
    return [(line, parse_row(line, values, settings, agent)) for line, values in batch]


async def run_import(
    store: Store, relay: OutboxRelay, job: ImportJob, path: str, agent: Principal, batch_rows: int
) -> None:
    settings = await store.settings.get(agent.workspace_id)
    try:
        with open(path, "rb") as stream:
            rows = read_rows(iter(stream))
            # Parsing and phone normalisation are CPU work: off the event loop, one batch at a time.
            while batch := await asyncio.to_thread(_next_batch, rows, settings, agent, batch_rows):
                job = await _apply(store, relay, job, batch, agent)
                progress = {"bytes_read": stream.tell(), "updated_at": now()}
                await store.imports.save(agent.workspace_id, job := job.model_copy(update=progress))
        job = job.model_copy(update={"state": "completed", "bytes_read": job.bytes_total})
    except ValueError as exc:
        job = job.model_copy(update={"state": "failed", "message": str(exc)})
    except Exception:
        logger.exception("import failed", extra={"import_id": job.import_id})
        message = "The import stopped on an internal error; the rows before it are kept"
        job = job.model_copy(update={"state": "failed", "message": message})
    finally:
        os.unlink(path)
    at = now()
    await store.imports.save(
        agent.workspace_id, job.model_copy(update={"finished_at": at, "updated_at": at})
    )


async def _apply(
    store: Store, relay: OutboxRelay, job: ImportJob, batch: list[Parsed], agent: Principal
) -> ImportJob:
    """Write a batch's new cards; report its errors and the rows matching an existing card."""
    ws = agent.workspace_id
    cards = [(line, card) for line, card in batch if isinstance(card, Customer)]
    reports = [report for _, report in batch if isinstance(report, ImportRow)]
    owners: dict[str, str] = {}
    keys = unite([], [key for _, card in cards for key in card.keys()])
    for existing in await store.customers.find_by_keys(ws, keys):
        owners.update({key: existing.customer_id for key in existing.keys() if key not in owners})
    new = []
    for line, card in cards:
        same = unite([], [owners[key] for key in card.keys() if key in owners])
        keep = not same or job.on_duplicate == "create"
        if same:
            reports.append(_duplicate(line, same, card.customer_id if keep else None))
        if keep:
            new.append(card)
            owners.update({key: card.customer_id for key in card.keys() if key not in owners})
    if new:
        import_id = {"correlationid": job.import_id}
        created = {c.customer_id: [events.created(c, agent, **import_id)] for c in new}
        await store.add(ws, new, created)
        await relay.publish(list(created))  # what Kafka refuses now, the relay's sweep sends
    await store.imports.add_rows(job.import_id, reports)
    errors = sum(report.outcome == "error" for report in reports)
    counts = {
        "rows": job.rows + len(batch),
        "created": job.created + len(new),
        "duplicates": job.duplicates + len(reports) - errors,
        "errors": job.errors + errors,
    }
    return job.model_copy(update=counts)


async def _spool(request: Request, settings: CustomersSettings) -> tuple[str, int]:
    """The request body, streamed to a temporary file (never whole in memory)."""
    fd, path = tempfile.mkstemp(prefix="import-", suffix=".csv", dir=settings.import_spool_dir)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.import_max_bytes:
                    limit = f"{settings.import_max_bytes // 1024**2} MiB"
                    raise ApiError(413, "payload_too_large", f"An import is at most {limit}")
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, size


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "The CSV file itself: a header line (name, phone, city, address, tags, "
        "status; French and Arabic names too), `,` or `;` separated, UTF-8 or Windows-1252.",
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "",
    status_code=202,
    summary="Import customers from a CSV file sent as the request body; poll the job",
    responses={**ERRORS, 413: ERRORS[422], 415: ERRORS[422]},
    openapi_extra=_CSV_BODY,
)
async def start_import(
    agent: Agent,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    on_duplicate: Annotated[
        OnDuplicate, Query(description="A row matching an existing card: skip it, or create it")
    ] = "skip",
) -> ImportJob:
    if request.headers.get("content-type", "").startswith("multipart/"):
        message = "Send the CSV file as the raw request body (text/csv)"
        raise ApiError(415, "unsupported_media_type", message)
    settings: CustomersSettings = request.app.state.settings
    path, size = await _spool(request, settings)
    at = now()
    job = ImportJob(
        import_id=f"imp_{new_event_id().replace('-', '')}",
        state="running",
        on_duplicate=on_duplicate,
        created_by=agent.agent_id,
        created_at=at,
        updated_at=at,
        bytes_total=size,
    )
    await store_of(request).imports.create(agent.workspace_id, job)
    background.add_task(
        run_import,
        store_of(request),
        relay_of(request),
        job,
        path,
        agent,
        settings.import_batch_rows,
    )
    response.headers["Location"] = f"/customers/imports/{job.import_id}"
    return job


@router.get("/{import_id}", summary="An import's state and counts (its progress)", responses=ERRORS)
async def get_import(import_id: str, agent: Agent, request: Request) -> ImportJob:
    job = await store_of(request).imports.get(agent.workspace_id, import_id)
    if job is None:
        raise not_found("Import")
    if job.state == "running" and now() - job.updated_at > STALE_AFTER:
        return job.model_copy(update={"state": "interrupted"})  # its process stopped mid-way
    return job


@router.get(
    "/{import_id}/rows", summary="The rows refused or matching an existing card", responses=ERRORS
)
async def import_rows(
    import_id: str,
    agent: Agent,
    request: Request,
    after: Annotated[int, Query(ge=0, description="Last row number already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ImportRow]:
    store = store_of(request)
    if await store.imports.get(agent.workspace_id, import_id) is None:
        raise not_found("Import")
    return await store.imports.rows(import_id, after, limit)
