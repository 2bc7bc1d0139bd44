"""The way out's rules (pure): the ledger row, backoff, pacing, a command as a Graph API body."""

import time
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hanout_shared.contracts.whatsapp import (
    MarkReadRequested,
    MediaContent,
    MetaError,
    SendRequested,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
    TextContent,
)

PAIR_RATE_LIMIT = 131056


class SendRecord(BaseModel):
    """The ledger row of one idempotency key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    workspace_id: str
    idempotency_key: str
    state: Literal["claimed", "accepted", "failed"]
    command_id: str
    claimed_at: datetime
    wamid: str | None = None
    error: MetaError | None = None
    reason: str | None = None
    retryable: bool | None = None


def backoff_s(error: MetaError, attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential; the pair rate limit asks for 4^X seconds (SPEC §6.4)."""
    factor = 4.0 if error.code == PAIR_RATE_LIMIT else 2.0
    return float(min(cap_s, base_s * factor ** (attempt - 1)))


class TokenBucket:
    """A per-number pacer: `rate` sends a second, bursts up to one second's worth."""

    def __init__(self, rate: float, clock: Any = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate
        self._at = clock()

    def delay(self) -> float:
        """Take a token; return how long to wait before using it (0 when one was available)."""
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class InvalidCommand(ValueError):
    """A command that can never be sent as it is (not a transient failure)."""


def _recipient(command: SendRequested) -> dict[str, str]:
    if command.recipient.wa_id:  # `+` so Meta never prefixes our own country code
        return {"to": f"+{command.recipient.wa_id}"}
    if command.recipient.user_id:
        return {"recipient": command.recipient.user_id}
    raise InvalidCommand("the recipient has neither a wa_id nor a user_id")


def _media_object(content: MediaContent) -> dict[str, Any]:
    if bool(content.media_id) == bool(content.link):
        raise InvalidCommand("media needs exactly one of media_id or link")
    found: dict[str, Any] = {"id": content.media_id} if content.media_id else {"link": content.link}
    if content.caption and content.kind not in ("audio", "sticker"):
        found["caption"] = content.caption
    if content.filename and content.kind == "document":
        found["filename"] = content.filename
    if content.voice and content.kind == "audio":
        found["voice"] = True
    return found


def _parameter(parameter: TemplateParameter) -> dict[str, Any]:
    kind = parameter.type
    body: dict[str, Any] = {"type": kind}
    if parameter.parameter_name:
        body["parameter_name"] = parameter.parameter_name
    if kind in ("image", "video", "document"):
        media = {"id": parameter.media_id} if parameter.media_id else {"link": parameter.link}
        if parameter.filename and kind == "document":
            media["filename"] = parameter.filename
        body[kind] = media
    elif kind == "currency":
        body[kind] = {
            "fallback_value": parameter.fallback_value,
            "code": parameter.currency_code,
            "amount_1000": parameter.amount_1000,
        }
    elif kind == "date_time":
        body[kind] = {"fallback_value": parameter.fallback_value}
    elif kind == "payload":
        body["payload"] = parameter.payload
    elif kind == "coupon_code":
        body["coupon_code"] = parameter.text
    else:
        body["text"] = parameter.text
    return body


def _component(component: TemplateComponent) -> dict[str, Any]:
    body: dict[str, Any] = {"type": component.type}
    if component.sub_type:
        body["sub_type"] = component.sub_type
    if component.index is not None:
        body["index"] = str(component.index)
    body["parameters"] = [_parameter(p) for p in component.parameters]
    return body


def _template_object(content: TemplateContent) -> dict[str, Any]:
    found: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
    if content.components:
        found["components"] = [_component(c) for c in content.components]
    return found


def send_body(command: SendRequested) -> dict[str, Any]:
    """The Graph API body of a send; our idempotency key rides along as callback data."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    body.update(_recipient(command))
    if command.reply_to_wamid:
        body["context"] = {"message_id": command.reply_to_wamid}
    body["biz_opaque_callback_data"] = command.idempotency_key
    content = command.content
    body["type"] = content.kind
    if isinstance(content, TextContent):
        body["text"] = {"body": content.body}
        if content.preview_url:
            body["text"]["preview_url"] = True
    elif isinstance(content, MediaContent):
        body[content.kind] = _media_object(content)
    else:
        body["template"] = _template_object(content)
    return body


def mark_read_body(command: MarkReadRequested) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": command.wamid,
    }
    if command.typing_indicator:
        body["typing_indicator"] = {"type": "text"}
    return body
