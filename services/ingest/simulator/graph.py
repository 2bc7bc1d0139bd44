"""The Graph API endpoints ingest calls, answered in Meta's shapes (graph/ examples)."""

import asyncio
import hashlib
import random
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator.state import Recorded, Sent, SimState, StoredMedia, error_response
from simulator.webhooks import DEFAULT_WABA, envelope, now_stamp, status_item, wamid, wire_bytes

router = APIRouter(tags=["graph api"])
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
SENDABLE = ("text", "template", "interactive", "location", "contacts", "reaction", *MEDIA_KINDS)


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:] if value.lower().startswith("bearer ") and len(value) > 7 else None


def _meta_error(code: int, status: int | None = None) -> JSONResponse:
    status, body = error_response(code, status)
    return JSONResponse(body, status_code=status)


async def _refusal(request: Request, endpoint: str, body: Any) -> JSONResponse | None:
    """Record the call, then answer like Meta would refuse it (token, injected failure)."""
    state, token = _state(request), _bearer(request)
    state.requests.append(Recorded(endpoint, request.method, request.url.path, body, token))
    if token is None or token in state.expired_tokens:
        return _meta_error(190)
    failure = state.take_failure(endpoint, body)
    if failure is None:
        return None
    if failure.delay_s:
        await asyncio.sleep(failure.delay_s)
    return _meta_error(failure.code, failure.status)


def _invalid(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return True
    if body.get("status") == "read":
        return not isinstance(body.get("message_id"), str)
    kind = body.get("type")
    return (
        kind not in SENDABLE
        or not isinstance(body.get(kind), dict)
        or not (body.get("to") or body.get("recipient"))
    )


@router.post("/{version}/{phone_number_id}/messages", summary="Send a message or mark read")
async def messages(request: Request, phone_number_id: str) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if refused := await _refusal(request, "messages", body):
        return refused
    if _invalid(body):
        return _meta_error(100)
    if body.get("status") == "read":
        return JSONResponse({"success": True})
    return JSONResponse(_accept(request, phone_number_id, body))


def _accept(request: Request, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
    to, bsuid = body.get("to"), body.get("recipient")
    wa_id = "".join(ch for ch in str(to) if ch.isdigit()) if to else None
    sent = Sent(
        wamid(wa_id or str(bsuid), business_sent=True),
        phone_number_id,
        wa_id,
        None if wa_id else str(bsuid),
        body.get("biz_opaque_callback_data"),
        body["type"],
    )
    _state(request).sent[sent.wamid] = sent
    _plan_statuses(request, sent)
    contact = {"input": to, "wa_id": wa_id} if wa_id else {"input": bsuid, "user_id": bsuid}
    message: dict[str, Any] = {"id": sent.wamid}
    if sent.kind == "template":
        message["message_status"] = "accepted"
    return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}


def _plan_statuses(request: Request, sent: Sent) -> None:
    plan = _state(request).status_plan
    statuses = list(plan.statuses) * (1 + plan.duplicates)
    if plan.shuffle:
        random.shuffle(statuses)
    if statuses:
        deliver_statuses(request, sent, statuses)


def deliver_statuses(request: Request, sent: Sent, statuses: list[str]) -> int:
    display = request.app.state.display_numbers.get(sent.phone_number_id, "212522000111")
    stamp = int(now_stamp())
    rank = {"sent": 0, "delivered": 1, "read": 2, "played": 3, "failed": 1}
    bodies = [
        wire_bytes(envelope(sent.phone_number_id, display, DEFAULT_WABA,
                            {"statuses": [status_item(sent, s, str(stamp + rank.get(s, 0)))]}))
        for s in statuses
    ]  # fmt: skip
    deliverer = request.app.state.deliverer
    return int(deliverer.submit(bodies, [sent.wamid], request.app.state.status_delay_s))


@router.post("/{version}/{phone_number_id}/media", summary="Upload media (multipart)")
async def upload(request: Request, phone_number_id: str) -> Response:
    raw = await request.body()
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    parts = {part.get_param("name", header="content-disposition"): part
             for part in message.iter_parts()} if message.is_multipart() else {}  # fmt: skip
    fields = {name: part.get_content() for name, part in parts.items() if name != "file"}
    if refused := await _refusal(request, "media", fields):
        return refused
    file = parts.get("file")
    if file is None or fields.get("messaging_product") != "whatsapp":
        return _meta_error(100)
    media_id = str(random.randint(10**15, 10**16 - 1))
    payload = file.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    filename = file.get_filename() or "file"
    stored = StoredMedia(content, file.get_content_type(), filename, phone_number_id)
    _state(request).media[media_id] = stored
    return JSONResponse({"id": media_id})


@router.get("/{version}/{waba_id}/message_templates", summary="List templates (paged)")
async def templates(request: Request, waba_id: str) -> Response:
    if refused := await _refusal(request, "templates", dict(request.query_params)):
        return refused
    size = request.app.state.template_page_size
    after = int(request.query_params.get("after") or 0)
    page = _state(request).templates_of(waba_id)[after : after + size]
    body: dict[str, Any] = {"data": page, "paging": {"cursors": {"before": str(after)}}}
    if after + size < len(_state(request).templates_of(waba_id)):
        body["paging"]["cursors"]["after"] = str(after + size)
        body["paging"]["next"] = f"{request.url.path}?after={after + size}"
    return JSONResponse(body)


@router.get("/{version}/{media_id}", summary="Media URL and metadata")
async def media_info(request: Request, media_id: str) -> Response:
    if refused := await _refusal(request, "media_info", {"media_id": media_id}):
        return refused
    stored = _state(request).media.get(media_id)
    if stored is None:
        return _meta_error(100, 404)
    owner, asked = stored.phone_number_id, request.query_params.get("phone_number_id")
    if asked and owner and asked != owner:  # Meta enforces ownership when the number is given
        return _meta_error(100, 404)
    base = request.app.state.base_url
    return JSONResponse({
        "messaging_product": "whatsapp",
        "url": f"{base}/lookaside/whatsapp_business/attachments/?mid={media_id}&ext=300",
        "mime_type": stored.mime_type,
        "sha256": hashlib.sha256(stored.content).hexdigest(),
        "file_size": str(len(stored.content)),
        "id": media_id,
    })  # fmt: skip


@router.delete("/{version}/{media_id}", summary="Delete media")
async def media_delete(request: Request, media_id: str) -> Response:
    if refused := await _refusal(request, "media_delete", {"media_id": media_id}):
        return refused
    found = _state(request).media.pop(media_id, None)
    return JSONResponse({"success": True}) if found else _meta_error(100, 404)


@router.get("/lookaside/whatsapp_business/attachments/", summary="Media bytes (needs the token)")
async def lookaside(request: Request, mid: str) -> Response:
    if _bearer(request) is None:
        return Response(status_code=401)
    if failure := _state(request).take_failure("lookaside", {}):  # e.g. an expired URL
        return Response(status_code=failure.status or 404)
    stored = _state(request).media.get(mid)
    if stored is None:
        return Response(status_code=404)
    return Response(stored.content, media_type=stored.mime_type)
