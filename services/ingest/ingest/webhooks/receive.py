"""A signed webhook POST: its body read within the limit, checked, translated and made durable.

Both ways in serve it: the plain ASGI endpoint (`endpoint.py`, the busy path) and the documented
FastAPI route (`api.py`). Every refusal is an `ApiError`, answered in the platform's error shape.
"""

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson

from hanout_shared.contracts import deterministic_id
from hanout_shared.platform.errors import ApiError
from ingest.deps import IngestDeps
from ingest.events import DEAD_LETTER_TEXT_LIMIT, Outgoing, dead_letter
from ingest.metrics import IngestMetrics
from ingest.webhooks.model.parts import phone_number_ids, routing_key
from ingest.webhooks.model.translate import Delivery, Translation, translate
from ingest.webhooks.records import RawWebhook, Record, event_record, write_durably

logger = logging.getLogger("hanout.ingest.webhook")

# orjson reads a body as the standard library does except at the edges: integers past 64 bits
# (it makes them floats) and nesting deeper than Python's recursion limit (it goes to 1024).
# Bodies that could reach either edge are read by the standard library, as they always were.
_ORJSON_MAX_BRACKETS = 256
_LONG_NUMBER = b"0" * 19
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
# JSON can escape half of a UTF-16 pair; no UTF-8 text holds one, so no event could carry it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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


async def read_body(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    too_large = ApiError(413, "payload_too_large", f"Webhook bodies are limited to {limit} bytes")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


def loads(body: bytes) -> Any:
    """The body as `json.loads` reads it, with orjson's speed wherever both read it alike."""
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > _ORJSON_MAX_BRACKETS or _LONG_NUMBER in body.translate(_DIGITS_AS_ZERO):
        return json.loads(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # what orjson refuses, json may take (NaN, a BOM, UTF-16...)
        return json.loads(body)


def _replacing_lone_surrogates(value: Any) -> Any:
    """Each half pair as U+FFFD, the character that stands for one that could not be read."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replacing_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: _replacing_lone_surrogates(item) for key, item in value.items()}
    return value


def _parse(body: bytes, delivery: Delivery) -> dict[str, Any] | Outgoing:
    """The body as a dict, or the dead letter explaining why it is not a webhook we take."""
    try:
        payload = loads(body)
        if _SURROGATE_ESCAPE.search(body):
            payload = _replacing_lone_surrogates(payload)
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


def _signer(deps: IngestDeps, body: bytes, header: str | None) -> str:
    app_id = signed_by(body, header, deps.webhook.app_secrets)
    if app_id is None:
        reason = "missing" if not header else "invalid"
        deps.metrics.signature_failures.labels(reason).inc()
        deps.metrics.webhooks.labels("bad_signature").inc()
        logger.warning("webhook signature rejected", extra={"reason": reason, "bytes": len(body)})
        raise ApiError(401, f"{reason}_signature", "X-Hub-Signature-256 does not match the body")
    return app_id


async def receive(
    deps: IngestDeps, chunks: AsyncIterator[bytes], declared: str | None, signature: str | None
) -> None:
    """Returns once Kafka acknowledged the body and every event derived from it (then: 200)."""
    config, metrics = deps.webhook, deps.metrics
    try:
        body = await read_body(chunks, declared, config.max_body_bytes)
    except ApiError:
        metrics.webhooks.labels("too_large").inc()
        raise
    app_id = _signer(deps, body, signature)
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
    raw_id = deterministic_id(delivery.body_sha256, "raw")
    raw = RawWebhook(raw_id, body, routing_key(parsed), received_at, app_id)
    await _durably(deps, translation.outgoing, raw)
    metrics.ack_seconds.observe(time.perf_counter() - started)
    metrics.webhooks.labels("accepted").inc()
    _count(metrics, translation)
