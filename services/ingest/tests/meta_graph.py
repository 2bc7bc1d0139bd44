"""Graph API bodies in Meta's format, written for our tests: the requests ingest must send
(`POST /{version}/{phone-number-id}/messages`) and the answers Meta gives, success and errors."""

from typing import Any

from .meta_webhooks import KARIM, wamid

Body = dict[str, Any]
TO = f"+{KARIM.wa_id}"
BSUID = KARIM.user_id
QUOTED = wamid(KARIM, "question-karim")  # an inbound message we reply to or mark read


def _send(kind: str, content: Body, **extra: Any) -> Body:
    found: Body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}
    return found | extra | {"type": kind, kind: content}


def _shipped_template() -> Body:
    """Named body parameters, an image header, a URL button suffix and a quick-reply payload."""
    named = [("first_name", "Karim"), ("order_number", "CMD-2051"), ("delivery_date", "9 mai")]
    components = [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "4410298376510293"}}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": name, "text": text} for name, text in named
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "CMD-2051"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "1",
            "parameters": [{"type": "payload", "payload": "CHANGE_DAY:CMD-2051"}],
        },
    ]
    template = {"name": "order_shipped", "language": {"code": "fr"}, "components": components}
    return _send("template", template, biz_opaque_callback_data="order:CMD-2051;tpl:shipped")


def _positional_template() -> Body:
    values = ["Karim", "CMD-2051", "samedi 9 mai"]
    body = {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
    template = {"name": "delivery_reminder", "language": {"code": "fr"}, "components": [body]}
    return _send("template", template)


def _read(typing: bool) -> Body:
    found: Body = {"messaging_product": "whatsapp", "status": "read", "message_id": QUOTED}
    return found | ({"typing_indicator": {"type": "text"}} if typing else {})


REQUESTS: dict[str, Body] = {
    "send_text.json": _send("text", {"body": "Merci Karim ! Votre commande CMD-2051 est prête."}),
    "send_text_preview_url.json": _send(
        "text", {"preview_url": True, "body": "Suivi du colis : https://exemple.ma/colis/CMD-2051"}
    ),
    "send_text_reply_context.json": _send(
        "text", {"body": "Oui, on l'a en 39 et en 40."}, context={"message_id": QUOTED}
    ),
    "send_text_to_bsuid.json": {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": BSUID,
        "type": "text",
        "text": {"body": "Bien reçu, choukran !"},
    },
    "send_image_by_id.json": _send("image", {"id": "3301928475610293", "caption": "Sandala 39"}),
    "send_image_by_link.json": _send(
        "image", {"link": "https://cdn.exemple.ma/produits/sandala.jpg", "caption": "Taille 39"}
    ),
    "send_video_by_id.json": _send("video", {"id": "3301928475610294", "caption": "Kifach t3awd"}),
    "send_audio_by_id.json": _send("audio", {"id": "3301928475610295"}),
    "send_audio_voice_note.json": _send("audio", {"id": "3301928475610296", "voice": True}),
    "send_document_by_id.json": _send(
        "document", {"id": "3301928475610297", "filename": "bon_livraison_CMD-2051.pdf"}
    ),
    "send_document_by_link.json": _send(
        "document",
        {
            "link": "https://cdn.exemple.ma/factures/CMD-2051.pdf",
            "caption": "Votre facture",
            "filename": "facture_CMD-2051.pdf",
        },
    ),
    "send_sticker_by_id.json": _send("sticker", {"id": "3301928475610298"}),
    "send_template_no_params.json": _send(
        "template", {"name": "hello_world", "language": {"code": "en_US"}}
    ),
    "send_template_positional.json": _positional_template(),
    "send_template_named_header_buttons.json": _shipped_template(),
    "mark_as_read.json": _read(typing=False),
    "mark_as_read_with_typing_indicator.json": _read(typing=True),
}


def _error(code: int, message: str, details: str | None, trace: str, **extra: Any) -> Body:
    found: Body = {"message": message, "type": "OAuthException", "code": code}
    if details is not None:
        found["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": found | extra | {"fbtrace_id": trace}}


_PAIR_LIMIT = (
    "Message failed to send because there were too many messages sent from this phone number "
    "to the same phone number in a short period of time."
)
_WINDOW_CLOSED = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)
_EXPIRED = (
    "Error validating access token: Session has expired on Thursday, 07-May-26 02:00:00 PDT. "
    "The current time is Thursday, 07-May-26 02:14:09 PDT."
)
ERRORS: dict[str, Body] = {
    "error_100_invalid_parameter.json": _error(
        100, "(#100) Invalid parameter", "Invalid parameter", "AbT4k9Qz0hW2_xL7mPq1RsN"
    ),
    "error_130429_throughput.json": _error(
        130429,
        "(#130429) Rate limit hit",
        "Cloud API message throughput has been reached.",
        "Az8vN3cQ_r5TmK1wYp0LdEb",
        error_subcode=2494055,
    ),
    "error_131000_generic.json": _error(
        131000, "(#131000) Generic error", "An unknown error occurred", "AqW2e4R6t8Y0u1I3o5P7a9S"
    ),
    "error_131026_undeliverable.json": _error(
        131026,
        "(#131026) Message Undeliverable.",
        "Message Undeliverable.",
        "AxC3v5B7n9M1q2W4e6R8t0Y",
    ),
    "error_131047_reengagement.json": _error(
        131047, "(#131047) Re-engagement message", _WINDOW_CLOSED, "AdF2g4H6j8K0l1Z3x5C7v9B"
    ),
    "error_131056_pair_rate_limit.json": _error(
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        _PAIR_LIMIT,
        "AnM1b3V5c7X9z0L2k4J6h8G",
    ),
    "error_132000_template_param_count.json": _error(
        132000,
        "(#132000) Number of parameters does not match the expected number of params",
        "body: number of localizable_params (2) does not match the expected number of params (3)",
        "ApO9i7U5y3T1r0E2w4Q6a8S",
    ),
    "error_132001_template_not_found.json": _error(
        132001,
        "(#132001) Template name does not exist in the translation",
        "template name (delivery_reminder) does not exist in ar",
        "AlK8j6H4g2F0d1S3a5Z7x9C",
    ),
    "error_190_token_expired.json": _error(
        190, _EXPIRED, None, "AvB1n3M5q7W9e0R2t4Y6u8I", error_subcode=463
    ),
    "error_80007_waba_rate_limit.json": _error(
        80007,
        "(#80007) Rate limit issues",
        "The WhatsApp Business Account has reached its rate limit.",
        "AsD0f2G4h6J8k1L3z5X7c9V",
    ),
}
RESPONSES: dict[str, Body] = {
    "send_success.json": {
        "messaging_product": "whatsapp",
        "contacts": [{"input": TO, "wa_id": KARIM.wa_id}],
        "messages": [{"id": wamid(KARIM, "answer", inbound=False)}],
    },
    "send_success_bsuid.json": {
        "messaging_product": "whatsapp",
        "contacts": [{"input": BSUID, "user_id": BSUID}],
        "messages": [{"id": wamid(KARIM, "answer-bsuid", inbound=False)}],
    },
    "send_success_template_paced.json": {
        "messaging_product": "whatsapp",
        "contacts": [{"input": TO, "wa_id": KARIM.wa_id}],
        "messages": [
            {"id": wamid(KARIM, "answer-template", inbound=False), "message_status": "accepted"}
        ],
    },
    "mark_as_read_success.json": {"success": True},
    **ERRORS,
}
