"""Meta's webhook: the verification handshake, and signed notifications made durable before 200."""

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from hanout_shared.contracts import deterministic_id
from hanout_shared.platform.errors import ApiError, ErrorBody
from ingest.deps import IngestDep, IngestDeps, error_responses
from ingest.events import DEAD_LETTER_TEXT_LIMIT, Outgoing, dead_letter
from ingest.metrics import IngestMetrics
from ingest.webhooks.model.parts import phone_number_ids, routing_key
from ingest.webhooks.model.translate import Delivery, Translation, translate
from ingest.webhooks.records import RawWebhook, Record, event_record, write_durably

logger = logging.getLogger("hanout.ingest.webhook")
router = APIRouter(prefix="/webhooks/whatsapp", tags=["meta webhook"])


def signed_by(body: bytes, header: str | None, secrets: list[tuple[str, bytes]]) -> str | None:
    """The Meta app whose secret signed these exact bytes (several secrets: rotation), or None."""
    if not header or not header.startswith("sha256="):
        return None
    got = header[7:].strip().lower().encode("ascii", "replace")
    for app_id, secret in secrets:
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(expected, got):
            return app_id
    return None


def _json_errors(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Errors of a route whose own answer is not JSON (the route's media type would apply)."""
    content = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    return {status: {"description": text, "content": content} for status, text in statuses.items()}


@router.get(
    "",
    summary="Verification handshake: echo hub.challenge when hub.verify_token matches",
    response_class=PlainTextResponse,
    responses=_json_errors({400: "Missing parameters", 403: "Wrong hub.mode or hub.verify_token"}),
)
async def verify(
    deps: IngestDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    if mode is None or token is None or challenge is None:
        raise ApiError(400, "missing_parameters", "hub.mode, hub.verify_token and hub.challenge")
    given = token.encode()
    matches = [hmac.compare_digest(given, known) for known in deps.webhook.verify_tokens]
    if mode != "subscribe" or not any(matches):
        raise ApiError(403, "verification_failed", "Wrong hub.mode or hub.verify_token")
    return PlainTextResponse(challenge)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "payload_too_large", f"Webhook bodies are limited to {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes, delivery: Delivery) -> dict[str, Any] | Outgoing:
    """The body as a dict, or the dead letter explaining why it is not a webhook we take."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "replace")[:DEAD_LETTER_TEXT_LIMIT]
        event_id = deterministic_id(delivery.body_sha256, "invalid_json")
        return dead_letter(delivery.received_at, "invalid_json", event_id=event_id, raw_text=text)
    if isinstance(payload, dict) and payload.get("object") == "whatsapp_business_account":
        return payload
    event_id = deterministic_id(delivery.body_sha256, "wrong_object")
    if len(body) > DEAD_LETTER_TEXT_LIMIT:
        text = body.decode("utf-8", "replace")[:DEAD_LETTER_TEXT_LIMIT]
        return dead_letter(delivery.received_at, "wrong_object", event_id=event_id, raw_text=text)
    return dead_letter(delivery.received_at, "wrong_object", event_id=event_id, raw=payload)


async def _durably(deps: IngestDeps, outgoing: list[Outgoing], raw: RawWebhook | None) -> None:
    records: list[Record] = [] if raw is None else [raw.record()]  # the body first, always
    records.extend(event_record(item) for item in outgoing)
    try:
        await write_durably(deps.sink, records, deps.webhook.ack_timeout_s)
    except Exception as exc:  # whatever the cause, Kafka did not ack: Meta must retry
        deps.metrics.webhooks.labels("kafka_unavailable").inc()
        logger.warning("webhook not acknowledged by Kafka", extra={"error": repr(exc)})
        raise ApiError(503, "kafka_unavailable", "Not stored yet; retry later") from exc


def _count(metrics: IngestMetrics, translation: Translation) -> None:
    for item in translation.outgoing:
        metrics.events.labels(item.topic).inc()
    for dead in translation.dead_letters():
        metrics.dead_letters.labels(dead.reason).inc()
    for name in translation.ignored_fields:
        metrics.ignored_fields.labels(name).inc()


@router.post(
    "",
    summary="Event notifications: 200 only once the body and its events are in Kafka",
    response_class=Response,
    responses=error_responses(400, 401, 413, 503),
)
async def receive(request: Request, deps: IngestDep) -> Response:
    config, metrics = deps.webhook, deps.metrics
    try:
        body = await _read_body(request, config.max_body_bytes)
    except ApiError:
        metrics.webhooks.labels("too_large").inc()
        raise
    header = request.headers.get("x-hub-signature-256")
    app_id = signed_by(body, header, config.app_secrets)
    if app_id is None:
        reason = "missing" if not header else "invalid"
        metrics.signature_failures.labels(reason).inc()
        metrics.webhooks.labels("bad_signature").inc()
        logger.warning("webhook signature rejected", extra={"reason": reason, "bytes": len(body)})
        raise ApiError(401, f"{reason}_signature", "X-Hub-Signature-256 does not match the body")
    started, received_at = time.perf_counter(), datetime.now(UTC)
    delivery = Delivery(hashlib.sha256(body).hexdigest(), received_at, app_id)
    parsed = _parse(body, delivery)
    if isinstance(parsed, Outgoing):
        await _durably(deps, [parsed], None)
        reason = parsed.event.data.reason
        metrics.dead_letters.labels(reason).inc()
        metrics.webhooks.labels(reason).inc()
        raise ApiError(400, reason, "Not a whatsapp_business_account webhook body")
    channels = await deps.directory.lookup(set(phone_number_ids(parsed)))
    translation = translate(parsed, delivery, channels)
    raw = RawWebhook(
        deterministic_id(delivery.body_sha256, "raw"),
        body,
        routing_key(parsed),
        received_at,
        app_id,
    )
    await _durably(deps, translation.outgoing, raw)
    metrics.ack_seconds.observe(time.perf_counter() - started)
    metrics.webhooks.labels("accepted").inc()
    _count(metrics, translation)
    return Response(status_code=200)
