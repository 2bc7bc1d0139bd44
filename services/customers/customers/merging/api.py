"""HTTP routes of duplicates: the flagged groups, merging them, and who merged what and when."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from customers.cards.model import Customer
from customers.deps import ERRORS, CustomersDep, CustomersDeps, now
from customers.events import event_fields
from customers.merging.model import MergeRecord, duplicate_groups, merge
from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.customers import CustomerMerged, CustomerMergedEvent
from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.errors import ApiError, not_found

router = APIRouter(prefix="/customers", tags=["duplicates and merges"])
MERGE_ATTEMPTS = 3


class DuplicateGroup(BaseModel):
    keys: list[str] = Field(description="What they share, e.g. tel:+212612345678")
    customers: list[Customer]


class MergeRequest(BaseModel):
    absorbed_ids: list[str] = Field(min_length=1, max_length=20)


@router.get("/duplicates", summary="Groups of cards sharing a number or WhatsApp identity")
async def list_duplicates(
    agent: Agent, deps: CustomersDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[DuplicateGroup]:
    store, ws = deps.store, agent.workspace_id
    shared = await store.keys.shared(ws, limit * 10)
    groups = duplicate_groups([ids for _, ids in shared])[:limit]
    found = {c.customer_id: c for c in await store.customers.get_many(ws, sum(groups, []))}
    return [
        DuplicateGroup(
            keys=[key for key, ids in shared if ids[0] in group],
            customers=[found[i] for i in group if i in found],
        )
        for group in groups
    ]


@router.get("/merges", summary="Who merged which cards, and when (newest first)")
async def list_merges(
    agent: Agent, deps: CustomersDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[MergeRecord]:
    return await deps.store.merges.recent(agent.workspace_id, limit)


@router.post(
    "/{survivor_id}/merge",
    summary="Merge cards into this one; the absorbed ids keep resolving to it",
    responses=ERRORS,
)
async def merge_customers(
    survivor_id: str, body: MergeRequest, agent: Agent, deps: CustomersDep
) -> Customer:
    absorbed_ids = list(dict.fromkeys(body.absorbed_ids))
    if survivor_id in absorbed_ids:
        raise ApiError(422, "invalid_merge", "A customer cannot absorb itself")
    merge_id = deterministic_id("merge", agent.workspace_id, survivor_id, *sorted(absorbed_ids))
    survivor = await _merge(deps, agent, survivor_id, absorbed_ids, merge_id)
    # The event was stored with the survivor's write; a retry finds it there if still pending.
    await deps.publish([survivor_id])
    return await deps.store.customers.get(agent.workspace_id, survivor_id) or survivor


async def _merge(
    deps: CustomersDeps, agent: Principal, survivor_id: str, absorbed_ids: list[str], merge_id: str
) -> Customer:
    store = deps.store
    for _ in range(MERGE_ATTEMPTS):
        survivor = await deps.live_customer(agent, survivor_id)
        others = await store.customers.get_many(agent.workspace_id, absorbed_ids)
        if len(others) != len(absorbed_ids):
            raise not_found("Customer to absorb")
        if any(o.merged_into not in (None, survivor_id) for o in others):
            raise ApiError(409, "merged", "A customer to absorb was already merged elsewhere")
        pending = [o for o in others if o.merged_into is None]
        if not pending:
            return survivor
        at = now()
        merged = merge(survivor, pending, agent.agent_id, at)
        record = MergeRecord(
            merge_id=merge_id,
            survivor_id=survivor_id,
            absorbed_ids=absorbed_ids,
            merged_by=agent.agent_id,
            merged_by_name=agent.name,
            merged_at=at,
        )
        data = CustomerMerged(
            survivor_id=survivor_id, absorbed_ids=absorbed_ids, survivor=merged.card()
        )
        event = CustomerMergedEvent.create(data=data, id=merge_id, **event_fields(merged, agent))
        if await store.merge(survivor, merged, pending, record, event):
            return merged
    raise ApiError(409, "version_conflict", "The cards kept changing: reload and retry")
