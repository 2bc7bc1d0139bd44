"""An import running: the spooled file read and applied a batch of rows at a time, its progress
and counts saved after each batch for the client polling the job."""

import asyncio
import itertools
import logging
import os
from collections.abc import Iterator

from customers import events
from customers.cards.model import Customer, WorkspaceSettings, unite
from customers.deps import CustomersDeps, now
from customers.imports.model import (
    ImportJob,
    ImportRow,
    duplicate_row,
    flagged_row,
    parse_row,
)
from customers.imports.spreadsheet import FLAGGED_FIELDS, Read, formula_fields, read_rows
from hanout_shared.platform.auth import Principal

logger = logging.getLogger("hanout.customers.imports")
Parsed = tuple[int, Customer | ImportRow]


def _next_batch(
    rows: Iterator[Read], settings: WorkspaceSettings, agent: Principal, size: int
) -> list[Parsed]:
    return [
        (
            line,
            read if isinstance(read, ImportRow) else parse_row(line, read, settings, agent, now()),
        )
        for line, read in itertools.islice(rows, size)
    ]


async def run_import(deps: CustomersDeps, job: ImportJob, path: str, agent: Principal) -> None:
    store = deps.store
    settings = await store.settings.get(agent.workspace_id)
    try:
        with open(path, "rb") as stream:
            rows = read_rows(stream)
            # Parsing and phone normalisation are CPU work: off the event loop, one batch at a time.
            while batch := await asyncio.to_thread(
                _next_batch, rows, settings, agent, deps.import_batch_rows
            ):
                job = await _apply(deps, job, batch, agent)
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
    deps: CustomersDeps, job: ImportJob, batch: list[Parsed], agent: Principal
) -> ImportJob:
    """Write a batch's new cards; report its errors and the rows matching an existing card."""
    store, ws = deps.store, agent.workspace_id
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
        flagged = formula_fields(card.model_dump(include=set(FLAGGED_FIELDS))) if keep else []
        if same:
            reports.append(duplicate_row(line, same, card.customer_id if keep else None, flagged))
        elif flagged:
            reports.append(flagged_row(line, card.customer_id, flagged))
        if keep:
            new.append(card)
            owners.update({key: card.customer_id for key in card.keys() if key not in owners})
    if new:
        import_id = {"correlationid": job.import_id}
        created = {c.customer_id: [events.created(c, agent, **import_id)] for c in new}
        await store.add(ws, new, created)
        await deps.publish(list(created))  # what Kafka refuses now, the relay's sweep sends
    await store.imports.add_rows(job.import_id, reports)
    outcomes = [report.outcome for report in reports]
    counts = {
        "rows": job.rows + len(batch),
        "created": job.created + len(new),
        "duplicates": job.duplicates + outcomes.count("duplicate"),
        "errors": job.errors + outcomes.count("error"),
        "flagged": job.flagged + sum(bool(report.flagged) for report in reports),
    }
    return job.model_copy(update=counts)
