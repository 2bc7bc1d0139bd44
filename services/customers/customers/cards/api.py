"""HTTP routes of the customer card: create, read, update, archive, list, search and lookup, and
the workspace's card settings."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from customers import events
from customers.cards.model import (
    Customer,
    CustomerDraft,
    CustomerPatch,
    Invalid,
    WorkspaceSettings,
    changed_fields,
    new_customer,
    patched,
)
from customers.cards.search import name_tokens, search_digits
from customers.deps import ERRORS, CustomersDep, invalid, now
from customers.matching.contacts import matched
from customers.matching.model import (
    ContactInfo,
    bsuid_key,
    outcome,
    phone_keys,
    username_key,
    wa_id_key,
)
from customers.store import Store
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.auth import Admin, Agent
from hanout_shared.platform.errors import ApiError, not_found
from hanout_shared.platform.phones import InvalidPhone, normalise_region

router = APIRouter(prefix="/customers", tags=["customers"])


class Page(BaseModel):
    items: list[Customer]
    next_cursor: str | None = Field(default=None, description="Pass back to get the next page")


class Lookup(BaseModel):
    outcome: Literal["known", "unknown", "duplicates"]
    customer: Customer | None = Field(default=None, description="When known")
    candidates: list[Customer] = Field(default=[], description="When duplicates: offer a merge")
    contact: ContactInfo | None = Field(default=None, description="When unknown: what we know")


class CustomerView(Customer):
    resolved_from: str | None = Field(
        default=None, description="The merged-away id asked for, when it resolved to this card"
    )


@router.get("/settings", summary="The workspace's statuses and default phone region")
async def get_settings(agent: Agent, deps: CustomersDep) -> WorkspaceSettings:
    return await deps.store.settings.get(agent.workspace_id)


@router.put(
    "/settings", summary="Change the statuses and default region (admins)", responses=ERRORS
)
async def put_settings(
    body: WorkspaceSettings, admin: Admin, deps: CustomersDep
) -> WorkspaceSettings:
    try:
        region = normalise_region(body.default_region)
    except ValueError as exc:
        raise invalid(Invalid("invalid_region", "default_region", str(exc))) from exc
    statuses = list(dict.fromkeys(s.strip() for s in body.statuses if s.strip()))
    settings = WorkspaceSettings(statuses=statuses, default_region=region)
    await deps.store.settings.put(admin.workspace_id, settings, admin.agent_id)
    return settings


@router.post("", status_code=201, summary="Create a customer card", responses=ERRORS)
async def create_customer(draft: CustomerDraft, agent: Agent, deps: CustomersDep) -> Customer:
    store, ws = deps.store, agent.workspace_id
    if draft.conversation_key and not draft.conversation_key.startswith(f"{ws}:"):
        raise invalid(Invalid("invalid_conversation", "conversation_key", "Not this workspace's"))
    settings = await store.settings.get(ws)
    try:
        customer = new_customer(draft, settings, workspace_id=ws, actor=agent.agent_id, now=now())
    except Invalid as exc:
        raise invalid(exc) from exc
    announced: list[CloudEvent] = [events.created(customer, agent)]
    if draft.conversation_key:
        announced.append(matched(customer, draft.conversation_key, agent))
    await store.add(ws, [customer], {customer.customer_id: announced})
    # Stored with the card: from here the relay delivers them, even if Kafka refuses right now.
    await deps.publish([customer.customer_id])
    return customer


@router.get("", summary="List (newest first) or search by name or number", responses=ERRORS)
async def list_customers(
    agent: Agent,
    deps: CustomersDep,
    q: Annotated[
        str | None, Query(description="A name, a number in any format, or 4+ digits")
    ] = None,
    archived: Annotated[bool, Query(description="List archived cards instead")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page:
    store, ws = deps.store, agent.workspace_id
    if q and q.strip():
        return await _search(store, ws, q, limit, int(cursor) if cursor and cursor.isdigit() else 0)
    state = "archived" if archived else "active"
    items = await store.customers.page(ws, state, cursor, limit + 1)
    more = len(items) > limit
    return Page(items=items[:limit], next_cursor=items[limit - 1].customer_id if more else None)


async def _search(store: Store, ws: str, q: str, limit: int, offset: int) -> Page:
    settings = await store.settings.get(ws)
    try:
        key = phone_keys(q, settings.default_region).key
        return Page(items=await store.customers.find_by_keys(ws, [key]))
    except InvalidPhone:
        pass
    digits, words = search_digits(q), name_tokens(q)
    if digits:
        found = await store.customers.search_digits(ws, digits, limit + 1, offset)
    elif words:
        found = await store.customers.search_names(ws, words, limit + 1, offset)
    else:
        return Page(items=[])
    more = len(found) > limit
    return Page(items=found[:limit], next_cursor=str(offset + limit) if more else None)


@router.get(
    "/lookup",
    summary="Who is this number or WhatsApp identity?",
    response_model=Lookup,
    responses=ERRORS,
)
async def lookup(
    agent: Agent,
    deps: CustomersDep,
    phone: Annotated[str | None, Query(description="Any format: +212 6.., 06.., 00212..")] = None,
    wa_id: str | None = None,
    user_id: Annotated[str | None, Query(description="BSUID; give phone_number_id too")] = None,
    phone_number_id: str | None = None,
    username: str | None = None,
) -> Response:
    store, ws = deps.store, agent.workspace_id
    keys, e164 = [], None
    if phone:
        try:
            number = phone_keys(phone, (await store.settings.get(ws)).default_region)
        except InvalidPhone as exc:
            raise invalid(Invalid("invalid_phone", "phone", str(exc))) from exc
        keys.append(number.key)
        e164 = number.e164
    keys += [wa_id_key(wa_id)] if wa_id else []
    keys += [bsuid_key(user_id, phone_number_id)] if user_id else []
    keys += [username_key(username)] if username else []
    if not keys:
        message = "Give a phone, wa_id, user_id or username"
        raise ApiError(422, "missing_identity", message)
    found = await _lookup(store, ws, keys, e164)
    # The panel's hot path: serialised once, not validated again against the response model.
    return Response(found.model_dump_json(), media_type="application/json")


async def _lookup(store: Store, ws: str, keys: list[str], e164: str | None) -> Lookup:
    """One indexed query on the cards' keys; the key index only when nobody holds them."""
    matches = await store.customers.find_by_keys(ws, keys)
    kind = outcome(matches)
    if kind == "known":
        return Lookup(outcome=kind, customer=matches[0])
    if kind == "duplicates":
        return Lookup(outcome=kind, candidates=matches)
    seen = await store.keys.contact(ws, keys) or ContactInfo()
    return Lookup(
        outcome=kind, contact=seen.model_copy(update={"phone_e164": e164 or seen.phone_e164})
    )


@router.get("/{customer_id}", summary="A customer card with its stats", responses=ERRORS)
async def get_customer(
    customer_id: str, agent: Agent, deps: CustomersDep, response: Response
) -> CustomerView:
    store, asked = deps.store, customer_id
    for _ in range(5):  # tombstones point straight at their survivor; the loop is a safety net
        customer = await store.customers.get(agent.workspace_id, customer_id)
        if customer is None:
            break
        if not customer.merged_into:
            if customer_id != asked:
                response.headers["Content-Location"] = f"/customers/{customer_id}"
            resolved = asked if customer_id != asked else None
            return CustomerView(**customer.model_dump(), resolved_from=resolved)
        customer_id = customer.merged_into
    raise not_found("Customer")


@router.patch(
    "/{customer_id}", summary="Change a card (and archive or restore it)", responses=ERRORS
)
async def update_customer(
    customer_id: str, patch: CustomerPatch, agent: Agent, deps: CustomersDep
) -> Customer:
    store = deps.store
    before = await deps.live_customer(agent, customer_id)
    if patch.version is not None and patch.version != before.version:
        raise ApiError(409, "version_conflict", f"The card is at version {before.version}")
    settings = await store.settings.get(agent.workspace_id)
    try:
        after = patched(before, patch, settings, agent.agent_id, now())
    except Invalid as exc:
        raise invalid(exc) from exc
    changed = changed_fields(before, after)
    if not changed:
        return before
    if not await store.save(before, after, [events.updated(after, changed, agent)]):
        raise ApiError(409, "version_conflict", "The card changed meanwhile: reload and retry")
    await deps.publish([after.customer_id])
    return after
