"""The control API of the simulator (`/_sim`): what tests and `make dev` use to play Meta."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from simulator.graph import deliver_statuses
from simulator.state import Failure, SimState, StatusPlan
from simulator.webhooks import DEFAULT_WABA, contact, envelope, now_stamp, wamid, wire_bytes

router = APIRouter(prefix="/_sim", tags=["simulator control"])


class InboundMessage(BaseModel):
    """A customer writes: `type` and its `content` object, or a whole raw `message` item."""

    phone_number_id: str = "110928374650192"
    display_phone_number: str = "212522000111"
    waba_id: str = DEFAULT_WABA
    wa_id: str | None = "212612345678"
    user_id: str | None = None
    username: str | None = None
    name: str | None = "Youssef El Amrani"
    type: str = "text"
    content: dict[str, Any] = Field(default_factory=lambda: {"body": "Salam"})
    context: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    count: int = Field(default=1, ge=1, le=1000, description="Messages in one batched POST")
    duplicates: int = Field(default=0, ge=0, le=10, description="Extra identical deliveries")


class StatusRequest(BaseModel):
    wamid: str
    statuses: list[str] = ["sent", "delivered", "read"]
    duplicates: int = 0


class Config(BaseModel):
    webhook_url: str | None = None
    auto_statuses: list[str] | None = None
    shuffle_statuses: bool | None = None
    duplicate_statuses: int | None = None
    status_delay_s: float | None = None


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _item(spec: InboundMessage, index: int) -> dict[str, Any]:
    if spec.message is not None:
        return spec.message if index == 0 else {**spec.message, "id": wamid(str(index), False)}
    item: dict[str, Any] = {"id": wamid(spec.wa_id or spec.user_id or "", False),
                            "timestamp": now_stamp(), "type": spec.type}  # fmt: skip
    if spec.wa_id:
        item["from"] = spec.wa_id
    if spec.user_id:
        item["from_user_id"] = spec.user_id
    if spec.type not in ("request_welcome",):
        item[spec.type] = spec.content
    for extra in ("context", "referral"):
        if getattr(spec, extra):
            item[extra] = getattr(spec, extra)
    return item


@router.post("/inbound", summary="A customer sends message(s): delivered signed to ingest")
async def inbound(request: Request, spec: InboundMessage) -> dict[str, Any]:
    items = [_item(spec, i) for i in range(spec.count)]
    value: dict[str, Any] = {"messages": items}
    if spec.type != "system":
        value["contacts"] = [contact(spec.wa_id, spec.user_id, spec.name, spec.username)]
    body = wire_bytes(
        envelope(spec.phone_number_id, spec.display_phone_number, spec.waba_id, value)
    )
    wamids = [item.get("id", "") for item in items]
    delivery = request.app.state.deliverer.submit([body] * (1 + spec.duplicates), wamids)
    return {"wamids": wamids, "delivery_id": delivery}


@router.post("/webhooks", summary="Deliver any body (JSON or text) signed, as Meta would")
async def raw_webhook(request: Request) -> dict[str, Any]:
    body = await request.body()
    return {"delivery_id": request.app.state.deliverer.submit([body], [])}


@router.post("/statuses", summary="Deliver statuses of a message the simulator accepted")
async def statuses(request: Request, spec: StatusRequest) -> dict[str, Any]:
    sent = _state(request).sent.get(spec.wamid)
    if sent is None:
        return {"delivery_id": None, "error": "unknown wamid"}
    order = list(spec.statuses) * (1 + spec.duplicates)
    return {"delivery_id": deliver_statuses(request, sent, order)}


@router.put("/config", summary="Where webhooks go, and which statuses follow a send")
async def configure(request: Request, config: Config) -> dict[str, Any]:
    state = _state(request)
    if config.webhook_url is not None:
        state.webhook_url = request.app.state.deliverer.url = config.webhook_url
    plan = state.status_plan
    state.status_plan = StatusPlan(
        config.auto_statuses if config.auto_statuses is not None else plan.statuses,
        config.shuffle_statuses if config.shuffle_statuses is not None else plan.shuffle,
        config.duplicate_statuses if config.duplicate_statuses is not None else plan.duplicates,
    )
    if config.status_delay_s is not None:
        request.app.state.status_delay_s = config.status_delay_s
    return {"webhook_url": state.webhook_url, "status_plan": asdict(state.status_plan)}


@router.post("/failures", summary="Answer the next matching Graph calls with a Meta error")
async def add_failure(request: Request, failure: Failure) -> dict[str, Any]:
    _state(request).failures.append(failure)
    return asdict(failure)


@router.delete("/failures", summary="Stop injecting failures")
async def clear_failures(request: Request) -> dict[str, Any]:
    _state(request).failures.clear()
    return {"failures": 0}


@router.post("/expired-tokens", summary="Treat this access token as expired (error 190)")
async def expire_token(request: Request, token: dict[str, str]) -> dict[str, Any]:
    _state(request).expired_tokens.add(token["token"])
    return {"expired": len(_state(request).expired_tokens)}


@router.put("/templates/{waba_id}", summary="The templates a WABA lists")
async def set_templates(request: Request, waba_id: str, templates: list[dict[str, Any]]) -> Any:
    _state(request).templates[waba_id] = templates
    return {"templates": len(templates)}


@router.get("/requests", summary="Graph API calls received (newest last)")
async def requests(request: Request, endpoint: str | None = None) -> list[dict[str, Any]]:
    found = [asdict(r) for r in _state(request).requests if endpoint in (None, r.endpoint)]
    for row in found:
        row["bearer"] = bool(row["bearer"])  # tests check a token came, never print it
    return found


@router.get("/deliveries", summary="Webhook deliveries: attempts and answers")
async def deliveries(request: Request) -> list[dict[str, Any]]:
    return [asdict(record) for record in request.app.state.deliverer.records]


@router.post("/reset", summary="Forget requests, failures, messages and deliveries")
async def reset(request: Request) -> dict[str, str]:
    state = _state(request)
    for bucket in (state.requests, state.failures, request.app.state.deliverer.records):
        bucket.clear()
    state.sent.clear()
    state.expired_tokens.clear()
    return {"status": "reset"}
