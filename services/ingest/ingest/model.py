"""Pure ingest logic for the way out: channels, Graph request bodies, errors, retries, pacing."""

import time
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from hanout_shared.contracts.whatsapp import (
    Channel,
    MarkReadRequested,
    MediaContent,
    MetaError,
    SendRequested,
    Template,
    TemplateButton,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
    TemplateSection,
    TextContent,
)

# Throughput and transient codes (SPEC §5.5): Meta asks for a retry with backoff.
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004})
PAIR_RATE_LIMIT = 131056


class ChannelRecord(BaseModel):
    """A business number of a workspace, as the registry keeps it (token included)."""

    model_config = ConfigDict(frozen=True)

    phone_number_id: str
    workspace_id: str
    meta_app_id: str
    access_token: SecretStr
    display_phone_number: str | None = None
    waba_id: str | None = None
    name: str | None = None
    enabled: bool = True
    created_at: datetime
    updated_at: datetime

    @property
    def channel(self) -> Channel:
        return Channel(
            phone_number_id=self.phone_number_id,
            display_phone_number=self.display_phone_number,
            waba_id=self.waba_id,
        )


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


def graph_error(status: int, payload: Any) -> MetaError:
    """Meta's error body (`{"error": {...}}`) as ours; anything else keeps the HTTP status."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return MetaError(code=None, title=f"HTTP {status}", message="unexpected Graph API answer")
    code = error.get("code")
    found = error.get("error_data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    message = error.get("message") if isinstance(error.get("message"), str) else None
    title = message.split(") ", 1)[-1] if message and message.startswith("(#") else message
    details = data.get("details") if isinstance(data.get("details"), str) else None
    return MetaError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        title=title,
        message=message,
        details=details,
    )


def retryable(error: MetaError, status: int) -> bool:
    return status >= 500 or status == 429 or error.code in RETRYABLE_CODES


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


def _template(item: dict[str, Any]) -> Template:
    sections = [
        TemplateSection(
            type=str(part.get("type")),
            format=part.get("format"),
            text=part.get("text"),
            buttons=[TemplateButton.model_validate(b) for b in part.get("buttons") or []],
            example=part.get("example"),
        )
        for part in item.get("components") or []
    ]
    return Template(
        id=str(item.get("id")),
        name=item["name"],
        language=item["language"],
        status=item["status"],
        category=item.get("category"),
        parameter_format=item.get("parameter_format"),
        sections=sections,
    )


def approved_templates(payload: Any) -> list[Template]:
    """The APPROVED templates of one Graph page; a malformed one is skipped, not fatal."""
    items = payload.get("data") if isinstance(payload, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("status") != "APPROVED":
            continue
        try:
            found.append(_template(item))
        except (ValidationError, KeyError, TypeError, AttributeError):
            continue
    return found


def next_cursor(payload: Any) -> str | None:
    paging = payload.get("paging") if isinstance(payload, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None
