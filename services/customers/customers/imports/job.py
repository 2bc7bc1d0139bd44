"""An import running: the spooled file read and applied a batch of rows at a time, its progress
and counts saved after each batch for the client polling the job."""

import asyncio
import contextlib
import functools
import itertools
import logging
import os
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import IO, Any

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
    batch = itertools.islice(rows, size)
    return [(line, _parsed(line, read, settings, agent)) for line, read in batch]


def _parsed(
    line: int, read: dict[str, Any] | ImportRow, settings: WorkspaceSettings, agent: Principal
) -> Customer | ImportRow:
    """The row's card, or the error its reading or its values gave."""
    return read if isinstance(read, ImportRow) else parse_row(line, read, settings, agent, now())


async def run_import(deps: CustomersDeps, job: ImportJob, path: str, agent: Principal) -> None:
    store = deps.store
    settings = await store.settings.get(agent.workspace_id)
    publishing: asyncio.Future[bool] | None = None
    try:
        with open(path, "rb") as stream:
            read = functools.partial(_read, read_rows(stream), stream, settings, agent, deps)
            async with contextlib.aclosing(_batches(read)) as batches:
                async for batch, read_to in batches:
                    job, created = await _apply(deps, job, batch, agent)
                    # A batch's events go to Kafka while the next batch is written.
                    if publishing is not None:
                        await publishing
                    publishing = asyncio.ensure_future(deps.publish(created))
                    progress = {"bytes_read": read_to, "updated_at": now()}
                    job = job.model_copy(update=progress)
                    await store.imports.save(agent.workspace_id, job)
        job = job.model_copy(update={"state": "completed", "bytes_read": job.bytes_total})
    except ValueError as exc:
        job = job.model_copy(update={"state": "failed", "message": str(exc)})
    except Exception:
        logger.exception("import failed", extra={"import_id": job.import_id})
        message = "The import stopped on an internal error; the rows before it are kept"
        job = job.model_copy(update={"state": "failed", "message": message})
    finally:
        os.unlink(path)
        if publishing is not None:
            await publishing  # never raises: what Kafka refuses, the relay's sweep sends
    at = now()
    await store.imports.save(
        agent.workspace_id, job.model_copy(update={"finished_at": at, "updated_at": at})
    )


def _read(
    rows: Iterator[Read],
    stream: IO[bytes],
    settings: WorkspaceSettings,
    agent: Principal,
    deps: CustomersDeps,
) -> tuple[list[Parsed], int]:
    """The next batch, and how far into the file it ends."""
    return _next_batch(rows, settings, agent, deps.import_batch_rows), stream.tell()


async def _batches(
    read: Callable[[], tuple[list[Parsed], int]],
) -> AsyncGenerator[tuple[list[Parsed], int]]:
    """The file's batches, each read while the one before is written: parsing and phone
    normalisation are CPU work, done off the event loop while the store and Kafka work."""
    reading = asyncio.ensure_future(asyncio.to_thread(read))
    try:
        while (batch := await reading)[0]:
            reading = asyncio.ensure_future(asyncio.to_thread(read))
            yield batch
    finally:
        if not reading.done():
            with contextlib.suppress(Exception):
                await reading  # the file stays open until its last read has ended


async def _apply(
    deps: CustomersDeps, job: ImportJob, batch: list[Parsed], agent: Principal
) -> tuple[ImportJob, list[str]]:
    """Write a batch's new cards; report its errors and the rows matching an existing card. The
    job with its counts, and the cards whose events are to publish."""
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
    import_id = {"correlationid": job.import_id}
    created = {c.customer_id: [events.created(c, agent, **import_id)] for c in new}
    if new:
        await store.add(ws, new, created)
    await store.imports.add_rows(job.import_id, reports)
    outcomes = [report.outcome for report in reports]
    counts = {
        "rows": job.rows + len(batch),
        "created": job.created + len(new),
        "duplicates": job.duplicates + outcomes.count("duplicate"),
        "errors": job.errors + outcomes.count("error"),
        "flagged": job.flagged + sum(bool(report.flagged) for report in reports),
    }
    return job.model_copy(update=counts), list(created)
