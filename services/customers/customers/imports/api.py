"""HTTP routes of the CSV import: the upload is spooled to disk, then imported in the background
while the client polls the job; nothing holds the whole file in memory."""

import os
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import StreamingResponse

from customers.deps import ERRORS, CustomersDep, CustomersDeps, now
from customers.imports.job import run_import
from customers.imports.model import ImportJob, ImportRow, OnDuplicate
from customers.imports.spreadsheet import EXPORT_COLUMNS, csv_line, export_cells
from hanout_shared.contracts import new_event_id
from hanout_shared.platform.auth import Admin, Agent
from hanout_shared.platform.downloads import file_headers
from hanout_shared.platform.errors import ApiError, not_found

router = APIRouter(prefix="/customers/imports", tags=["import"])
exports = APIRouter(prefix="/customers", tags=["import"])
EXPORT_PAGE = 500
STALE_AFTER = timedelta(minutes=2)


async def _spool(request: Request, deps: CustomersDeps) -> tuple[str, int]:
    """The request body, streamed to a temporary file (never whole in memory)."""
    fd, path = tempfile.mkstemp(prefix="import-", suffix=".csv", dir=deps.import_spool_dir)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > deps.import_max_bytes:
                    limit = f"{deps.import_max_bytes // 1024**2} MiB"
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
    deps: CustomersDep,
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
    path, size = await _spool(request, deps)
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
    await deps.store.imports.create(agent.workspace_id, job)
    background.add_task(run_import, deps, job, path, agent)
    response.headers["Location"] = f"/customers/imports/{job.import_id}"
    return job


@router.get("/{import_id}", summary="An import's state and counts (its progress)", responses=ERRORS)
async def get_import(import_id: str, agent: Agent, deps: CustomersDep) -> ImportJob:
    job = await deps.store.imports.get(agent.workspace_id, import_id)
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
    deps: CustomersDep,
    after: Annotated[int, Query(ge=0, description="Last row number already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ImportRow]:
    if await deps.store.imports.get(agent.workspace_id, import_id) is None:
        raise not_found("Import")
    return await deps.store.imports.rows(import_id, after, limit)


@exports.get(
    "/export",
    summary="Every active card of the workspace as a CSV file (admins), in the columns the "
    "import reads; a text cell starting like a formula (= + - @) is made inert with a `'`",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_customers(admin: Admin, deps: CustomersDep) -> StreamingResponse:
    return StreamingResponse(
        _export(deps, admin.workspace_id),
        media_type="text/csv; charset=utf-8",
        headers=file_headers("text/csv", "customers.csv"),
    )


async def _export(deps: CustomersDeps, workspace_id: str) -> AsyncIterator[str]:
    """A page of cards at a time, newest first: never the whole base in memory."""
    yield "\ufeff" + csv_line(EXPORT_COLUMNS)  # the BOM: Excel reads the file as UTF-8
    before = None
    while page := await deps.store.customers.page(workspace_id, "active", before, EXPORT_PAGE):
        yield "".join(csv_line(export_cells(card)) for card in page)
        before = page[-1].customer_id
