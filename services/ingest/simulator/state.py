"""What the simulator remembers: requests received, failures to inject, media, sent messages."""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# code → (title, details, HTTP status), as Meta answers them (tests/meta_graph.py has the shapes).
ERRORS: dict[int, tuple[str, str, int]] = {
    100: ("Invalid parameter", "Invalid parameter", 400),
    80007: ("Rate limit issues", "The WhatsApp Business Account has reached its rate limit.", 400),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached.", 400),
    131000: ("Generic error", "An unknown error occurred", 500),
    131009: ("Parameter value is not valid", "Recipient phone number not valid", 400),
    131026: ("Message Undeliverable.", "Message Undeliverable.", 400),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
        400,
    ),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
        400,
    ),
    132000: (
        "Number of parameters does not match the expected number of params",
        "body: number of localizable_params does not match the expected number of params",
        400,
    ),
    132001: (
        "Template name does not exist in the translation",
        "template name does not exist in the requested language",
        400,
    ),
}


def error_response(code: int, status: int | None = None) -> tuple[int, dict[str, Any]]:
    trace = secrets.token_urlsafe(16)
    if code == 190:
        message = "Error validating access token: Session has expired."
        error = {"message": message, "type": "OAuthException", "code": 190}
        return status or 401, {"error": {**error, "error_subcode": 463, "fbtrace_id": trace}}
    title, details, default_status = ERRORS.get(code, ("Unknown error", "Injected error", 400))
    return status or default_status, {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": trace,
        }
    }


@dataclass
class Failure:
    """Answer the next `times` matching calls with Meta's error `code` (times < 0: always)."""

    endpoint: str = "messages"
    code: int = 131000
    status: int | None = None
    times: int = 1
    recipient: str | None = None
    message_type: str | None = None
    delay_s: float = 0.0

    def matches(self, endpoint: str, body: Any) -> bool:
        if self.endpoint not in ("any", endpoint) or self.times == 0:
            return False
        fields = body if isinstance(body, dict) else {}
        to = str(fields.get("to") or fields.get("recipient") or "").lstrip("+")
        if self.recipient and self.recipient.lstrip("+") != to:
            return False
        return not self.message_type or fields.get("type") == self.message_type


@dataclass
class Recorded:
    endpoint: str
    method: str
    path: str
    body: Any
    bearer: str | None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass
class Sent:
    wamid: str
    phone_number_id: str
    wa_id: str | None
    user_id: str | None
    callback_data: str | None
    kind: str


@dataclass
class StoredMedia:
    content: bytes
    mime_type: str
    filename: str
    phone_number_id: str | None = None  # the number it was uploaded on (None: any number)


@dataclass
class StatusPlan:
    """Which statuses follow an accepted send, and how Meta may mangle their delivery."""

    statuses: list[str]
    shuffle: bool = False
    duplicates: int = 0


DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {"name": "hello_world", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "id": "1689556908120001", "components": [{"type": "BODY", "text": "Hello World"}]},
    {"name": "order_update", "language": "fr", "status": "APPROVED", "category": "UTILITY",
     "id": "1689556908129999", "parameter_format": "POSITIONAL",
     "components": [{"type": "BODY", "text": "Bonjour {{1}}, commande {{2}} : {{3}}",
                     "example": {"body_text": [["Youssef", "CMD-7741", "vendredi"]]}}]},
    {"name": "delivery_scheduled", "language": "fr", "status": "APPROVED",
     "category": "UTILITY", "id": "1689556908125555", "parameter_format": "NAMED",
     "components": [{"type": "HEADER", "format": "IMAGE"},
                    {"type": "BODY", "text": "{{first_name}}, {{order_number}}: {{delivery_date}}"},
                    {"type": "BUTTONS", "buttons": [
                        {"type": "URL", "text": "Suivre", "url": "https://exemple.ma/suivi/{{1}}"},
                        {"type": "QUICK_REPLY", "text": "Changer la date"}]}]},
    {"name": "promo_ete", "language": "fr", "status": "REJECTED", "category": "MARKETING",
     "id": "1689556908127777", "components": [{"type": "BODY", "text": "Promo"}]},
]  # fmt: skip


@dataclass
class SimState:
    webhook_url: str
    status_plan: StatusPlan
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)

    def take_failure(self, endpoint: str, body: Any) -> Failure | None:
        for failure in self.failures:
            if failure.matches(endpoint, body):
                failure.times -= 1 if failure.times > 0 else 0
                return failure
        return None

    def templates_of(self, waba_id: str) -> list[dict[str, Any]]:
        return self.templates.get(waba_id, DEFAULT_TEMPLATES)
