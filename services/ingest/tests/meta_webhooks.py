"""Webhook bodies in Meta's format, written for our tests: our two numbers, invented customers.

Every body the tests post is built here (signed at test time by `ingest_builders.example`), so the
repository needs nothing outside itself. The shapes follow Meta's webhook reference: one body per
POST, `entry[].changes[].value` holding `metadata`, `contacts`, `messages`, `statuses`, `errors`.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

PNID, PNID_2 = "110928374650192", "110928374650288"
WABA, WABA_2 = "104857361029384", "104857361029455"
DISPLAY, DISPLAY_2 = "212522000111", "212537000222"
T0 = 1778144400  # 2026-05-07T09:00:00Z: every timestamp is T0 + seconds
LOOKASIDE = "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
ERROR_CODES = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"
)

Body = dict[str, Any]


@dataclass(frozen=True)
class Person:
    name: str
    wa_id: str | None
    user_id: str | None
    username: str | None = None

    def contact(self) -> Body:
        profile = {"name": self.name} | ({"username": self.username} if self.username else {})
        found: Body = {"profile": profile}
        found |= {"wa_id": self.wa_id} if self.wa_id else {}
        return found | ({"user_id": self.user_id} if self.user_id else {})


KARIM = Person("Karim Benali", "212612345678", "MA.73545062505936299763")
AMINA = Person("Amina Chraibi", "212661002233", "MA.48121695370636518397")
HAMZA = Person("Hamza Lahlou", "212700445566", "MA.71808474157544128449")
LEILA = Person("Leila Mansouri", "212655778899", "MA.26305341694720229864")
# A number in a range libphonenumber does not list yet (+212 686): still a phone number.
OTHMANE = Person("Othmane Fassi", "212686353334", "MA.42793450430572203091")
# Phone withheld behind a WhatsApp username: only the BSUID names her.
RIM = Person("Rim S.", None, "MA.67126435982677162711", username="@rim.sebti")
KARIM_LEGACY = Person(KARIM.name, KARIM.wa_id, None)  # before webhooks carried BSUIDs


def wamid(person: Person, seed: str, inbound: bool = True) -> str:
    """An id in the layout of Meta's wamids: base64 of the user's number and a hex reference
    (inbound ids hold `FQIAEhgU`, the ones of our own sends `FQIAERgS`)."""
    number = (person.wa_id or person.user_id or "").encode()
    tag, size = (b"\x12\x18\x14", 20) if inbound else (b"\x11\x18\x12", 18)
    ref = hashlib.sha256(seed.encode()).hexdigest().upper()[:size].encode()
    raw = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00" + tag + ref + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def media_url(media_id: str) -> str:
    return f"{LOOKASIDE}?mid={media_id}&source=webhook&ext={T0 + 300}&hash=ARf3{media_id[:12]}"


def meta_error(code: int, title: str, details: str, href: bool = True) -> Body:
    found = {"code": code, "title": title, "message": title, "error_data": {"details": details}}
    return found | ({"href": ERROR_CODES} if href else {})


def value(
    pnid: str = PNID,
    contacts: list[Person] | None = None,
    **items: list[Body],
) -> Body:
    display = DISPLAY if pnid == PNID else DISPLAY_2
    found: Body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display, "phone_number_id": pnid},
    }
    if contacts:
        found["contacts"] = [person.contact() for person in contacts]
    return found | items


def envelope(*entries: tuple[str, list[Body]]) -> Body:
    """A POST body: entries of (WABA id, the `value` of each of its changes)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": waba, "changes": [{"value": v, "field": "messages"} for v in values]}
            for waba, values in entries
        ],
    }


def message(
    person: Person,
    at: int,
    kind: str,
    content: Any = None,
    *,
    context: Body | None = None,
    ref: str | None = None,
    **extra: Any,
) -> Body:
    """One item of `messages`: sent `at` seconds after T0, its content under its type."""
    found: Body = {"context": context} if context else {}
    found |= {"from": person.wa_id} if person.wa_id else {}
    found |= {"from_user_id": person.user_id} if person.user_id else {}
    found |= {"id": ref or wamid(person, f"{kind}-{at}"), "timestamp": str(T0 + at), "type": kind}
    found |= {kind: content} if content is not None else {}
    return found | extra


def from_customer(person: Person, at: int, kind: str, content: Any = None, **extra: Any) -> Body:
    """A body holding one message of `person` on our first number."""
    item = message(person, at, kind, content, **extra)
    return envelope((WABA, [value(contacts=[person], messages=[item])]))


def status(person: Person, sent: str, at: int, state: str, **extra: Any) -> Body:
    found: Body = {"id": sent, "status": state, "timestamp": str(T0 + at)}
    found |= {"recipient_id": person.wa_id} if person.wa_id else {}
    if person.user_id and "errors" not in extra:
        found["recipient_user_id"] = person.user_id
    return found | extra


def to_customer(person: Person, sent: str, at: int, state: str, **extra: Any) -> Body:
    """A body holding one status of a message we sent `person` (a failed one names no contact)."""
    item = status(person, sent, at, state, **extra)
    contacts = [] if state == "failed" or not person.user_id else [person]
    return envelope((WABA, [value(contacts=contacts, statuses=[item])]))


def pricing(category: str, kind: str | None, billable: bool = False, model: str = "PMP") -> Body:
    found: Body = {"billable": billable, "pricing_model": model}
    return found | ({"type": kind} if kind else {}) | {"category": category}


FREE_SERVICE = pricing("service", "free_customer_service")
OUR_REPLY_TO_KARIM = wamid(KARIM, "reply-karim", inbound=False)
OUR_CONFIRMATION_TO_AMINA = wamid(AMINA, "confirm-amina", inbound=False)
OUR_OFFER_TO_HAMZA = wamid(HAMZA, "offer-hamza", inbound=False)
OUR_TRACKING_TO_LEILA = wamid(LEILA, "tracking-leila", inbound=False)
OUR_PROMO_TO_OTHMANE = wamid(OTHMANE, "promo-othmane", inbound=False)
REACTED_TO = wamid(LEILA, "photo-leila", inbound=False)
BUTTONS_TO_KARIM = wamid(KARIM, "buttons-karim", inbound=False)


def _quoting(sent: str) -> Body:
    return {"from": DISPLAY, "id": sent}


def _media(media_id: str, mime: str, sha: str, url: bool = True, **extra: Any) -> Body:
    found: Body = {"mime_type": mime, "sha256": sha, "id": media_id}
    return found | extra | ({"url": media_url(media_id)} if url else {})


def _contacts_card() -> list[Body]:
    yassine = {
        "name": {
            "formatted_name": "Yassine Tahiri",
            "first_name": "Yassine",
            "last_name": "Tahiri",
        },
        "org": {"company": "Tahiri Logistique SARL", "title": "Chef de depot"},
        "phones": [
            {"phone": "+212 6 63 44 55 66", "wa_id": "212663445566", "type": "CELL"},
            {"phone": "+212 5 35 60 70 80", "type": "WORK"},
        ],
        "emails": [{"email": "y.tahiri@example.ma", "type": "WORK"}],
    }
    sanaa = {
        "name": {"formatted_name": "Sanaa", "first_name": "Sanaa"},
        "phones": [{"phone": "+212 7 00 22 33 44", "wa_id": "212700223344", "type": "MOBILE"}],
    }
    return [yassine, sanaa]


def _order() -> Body:
    items = [
        {
            "product_retailer_id": "ARGAN-OIL-100ML",
            "quantity": 3,
            "item_price": 89,
            "currency": "MAD",
        },
        {
            "product_retailer_id": "GHASSOUL-250G",
            "quantity": 1,
            "item_price": 34.5,
            "currency": "MAD",
        },
    ]
    text = "Zid liya wa7d l-ghassoul"
    return {"catalog_id": "880312457702931", "text": text, "product_items": items}


def _referral() -> Body:
    return {
        "source_url": "https://fb.me/9hQx2Lm7",
        "source_id": "120230411987650321",
        "source_type": "ad",
        "body": "Tawssil f 48 sa3a l ga3 l-mdoun",
        "headline": "Kteb lina f WhatsApp",
        "media_type": "image",
        "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/hanout_test_ad.jpg",
        "ctwa_clid": "ARAbT4k9Qz0hanouttestclid7b2f41c9e0d835",
        "welcome_message": {"text": "Ahlan! Chno bghiti t3ref?"},
    }


def _nfm_reply() -> Body:
    answers = {"flow_token": "flw_exchange_0412", "reason": "couleur", "order_id": "CMD-2051"}
    reply = {
        "response_json": json.dumps(answers, separators=(",", ":")),
        "body": "Sent",
        "name": "flow",
    }
    return {"type": "nfm_reply", "nfm_reply": reply}


def _messages() -> dict[str, Body]:
    return {
        "msg_text.json": from_customer(
            KARIM, 5, "text", {"body": "Salam, wach mazal 3ndkom sandala 39?"}
        ),
        "msg_text_legacy_no_bsuid.json": from_customer(
            KARIM_LEGACY, 12, "text", {"body": "Bonjour, ou en est ma commande ?"}
        ),
        "msg_text_reply_context.json": from_customer(
            KARIM,
            40,
            "text",
            {"body": "Mezyan, imta ghadi twsel?"},
            context=_quoting(OUR_REPLY_TO_KARIM),
        ),
        "msg_text_forwarded.json": from_customer(
            KARIM,
            60,
            "text",
            {"body": "Chouf had l-offre: -30% 3la l-argan"},
            context={"forwarded": True},
        ),
        "msg_image_frequently_forwarded.json": from_customer(
            HAMZA,
            75,
            "image",
            _media(
                "6531493519861128",
                "image/jpeg",
                "xfVuyVF59qfeAQnknxZ1LdZTk4eg7IV4lRfLIYV9QNY=",
                caption="Wach hadchi s7i7?",
            ),
            context={"frequently_forwarded": True},
        ),
        "msg_text_referral_ctwa.json": from_customer(
            AMINA,
            90,
            "text",
            {"body": "Bghit n3ref ktar 3la had l-offre"},
            referral=_referral(),
        ),
        "msg_text_referred_product.json": from_customer(
            LEILA,
            100,
            "text",
            {"body": "Wach kayn had l-kaftan f L?"},
            context={
                **_quoting(OUR_TRACKING_TO_LEILA),
                "referred_product": {
                    "catalog_id": "880312457702931",
                    "product_retailer_id": "KAFTAN-L-GREEN",
                },
            },
        ),
        "msg_image.json": from_customer(
            KARIM,
            120,
            "image",
            _media(
                "2718281828459045",
                "image/jpeg",
                "Y5oF5lpETM0gpJwpGId2zFAI5Cx6lIhS/lx360kjKfw=",
                caption="Hadi hiya l-3olba, wslat m7arsa",
            ),
        ),
        "msg_video.json": from_customer(
            HAMZA,
            130,
            "video",
            _media(
                "6264615717741993",
                "video/mp4",
                "LazgTwC+eA5oeKJd9nUaZJjj8W8v/G6YvIDipOj1Ugk=",
                url=False,
                caption="Chouf l-mochkil f had l-video",
            ),
        ),
        "msg_audio.json": from_customer(
            AMINA,
            140,
            "audio",
            _media(
                "8372950598993449",
                "audio/mpeg",
                "5vuJ+yuFtw5quShowgHNArb606Ss/XwpjC1FJu9IOwo=",
                url=False,
                voice=False,
            ),
        ),
        "msg_audio_voice.json": from_customer(
            KARIM,
            150,
            "audio",
            _media(
                "2214494425697297",
                "audio/ogg; codecs=opus",
                "IeZMxybOgZjoDnYpL52pu443LqJ4qVW+hi9bx7kTi/g=",
                voice=True,
            ),
        ),
        "msg_document.json": from_customer(
            LEILA,
            160,
            "document",
            _media(
                "8233529710301926",
                "application/pdf",
                "sARfEsfnKfgBezDo7EI88uR5jvzZiFW3p+ETujw4v+0=",
                caption="Bon de commande dyal had chhar",
                filename="bon_commande_mai_2026.pdf",
            ),
        ),
        "msg_sticker.json": from_customer(
            OTHMANE,
            170,
            "sticker",
            _media(
                "4691548834710736",
                "image/webp",
                "xXg+MSVEQTptRBC6bkiAPRsLOpLI9B1tVvFJP8ORDdw=",
                url=False,
                animated=True,
            ),
        ),
        "msg_location.json": from_customer(
            HAMZA,
            180,
            "location",
            {
                "address": "Place Bab Boujloud, Fes 30110",
                "latitude": 34.0618,
                "longitude": -4.9838,
                "name": "Bab Boujloud",
                "url": "https://maps.google.com/?cid=4455667788990011223",
            },
        ),
        "msg_location_current.json": from_customer(
            KARIM, 185, "location", {"latitude": 31.629472, "longitude": -7.981084}
        ),
        "msg_contacts.json": from_customer(AMINA, 190, "contacts", _contacts_card()),
        "msg_interactive_button_reply.json": from_customer(
            KARIM,
            200,
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "confirm_CMD-2051", "title": "Nakked"}},
            context=_quoting(BUTTONS_TO_KARIM),
        ),
        "msg_interactive_list_reply.json": from_customer(
            AMINA,
            210,
            "interactive",
            {
                "type": "list_reply",
                "list_reply": {
                    "id": "slot_2026-05-09_14h",
                    "title": "Samedi 14h-16h",
                    "description": "Livraison Fes",
                },
            },
            context=_quoting(OUR_CONFIRMATION_TO_AMINA),
        ),
        "msg_interactive_nfm_reply.json": from_customer(
            HAMZA, 220, "interactive", _nfm_reply(), context=_quoting(OUR_OFFER_TO_HAMZA)
        ),
        "msg_button_template_quick_reply.json": from_customer(
            KARIM,
            230,
            "button",
            {"payload": "UNSUBSCRIBE_OFFERS", "text": "Ma bghitch l-promos"},
            context=_quoting(wamid(KARIM, "template-karim", inbound=False)),
        ),
        "msg_reaction.json": from_customer(
            LEILA,
            240,
            "reaction",
            {"message_id": REACTED_TO, "emoji": "\U0001f64f"},
            ref=wamid(LEILA, "reaction-leila"),
        ),
        # Meta reuses the reaction's wamid to remove it: a dedupe on the wamid alone drops this.
        "msg_reaction_removed.json": from_customer(
            LEILA, 250, "reaction", {"message_id": REACTED_TO}, ref=wamid(LEILA, "reaction-leila")
        ),
        "msg_order.json": from_customer(OTHMANE, 260, "order", _order()),
        "msg_unsupported.json": from_customer(
            HAMZA,
            280,
            "unsupported",
            {"type": "poll_creation"},
            errors=[
                meta_error(
                    131051,
                    "Message type unknown",
                    "Message type is currently not supported.",
                    href=False,
                )
            ],
        ),
        "msg_request_welcome.json": from_customer(OTHMANE, 290, "request_welcome"),
        "msg_text_username_no_phone.json": from_customer(
            RIM, 300, "text", {"body": "Salam, bghit nbeddel l-adresse dyal tawssil"}
        ),
    }


def _system_message() -> Body:
    """A number change: a system message naming the old number only, no `contacts`."""
    new_number, old = "212677001122", Person(OTHMANE.name, OTHMANE.wa_id, None)
    item = message(
        old,
        270,
        "system",
        {
            "body": f"User {OTHMANE.name} changed from {OTHMANE.wa_id} to {new_number}",
            "wa_id": new_number,
            "type": "user_changed_number",
        },
    )
    return envelope((WABA, [value(messages=[item])]))


def _with_value_errors() -> Body:
    """A message Meta could not render: no `interactive` object, the reason in value.errors."""
    item = message(AMINA, 310, "interactive", context=_quoting(OUR_CONFIRMATION_TO_AMINA))
    error = meta_error(131000, "Something went wrong", "Unsupported webhook payload", href=False)
    return envelope((WABA, [value(contacts=[AMINA], messages=[item], errors=[error])]))


def _value_errors_only() -> Body:
    details = (
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time"
    )
    return envelope((WABA, [value(errors=[meta_error(130429, "Rate limit hit", details)])]))


def _template_status_update() -> Body:
    """Another field on the same callback URL: no metadata, the WABA in entry[].id."""
    change = {
        "value": {
            "event": "APPROVED",
            "message_template_id": 2390118475620193,
            "message_template_name": "delivery_reminder",
            "message_template_language": "fr",
            "reason": "NONE",
            "message_template_category": "UTILITY",
        },
        "field": "message_template_status_update",
    }
    return {
        "entry": [{"id": WABA, "time": T0 + 600, "changes": [change]}],
        "object": "whatsapp_business_account",
    }


def _statuses() -> dict[str, Body]:
    utility = pricing("utility", "regular", billable=True)
    return {
        "status_sent.json": to_customer(
            KARIM,
            OUR_REPLY_TO_KARIM,
            400,
            "sent",
            biz_opaque_callback_data="order:CMD-2051;tpl:delivery_reminder",
            pricing=utility,
        ),
        "status_delivered.json": to_customer(
            KARIM, OUR_REPLY_TO_KARIM, 410, "delivered", pricing=FREE_SERVICE
        ),
        "status_read.json": to_customer(KARIM, OUR_REPLY_TO_KARIM, 420, "read"),
        "status_played.json": to_customer(
            AMINA, wamid(AMINA, "voice-note-amina", inbound=False), 430, "played"
        ),
        "status_failed_131047.json": to_customer(
            HAMZA,
            OUR_OFFER_TO_HAMZA,
            440,
            "failed",
            errors=[
                meta_error(
                    131047,
                    "Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the "
                    "customer last replied to this number.",
                )
            ],
        ),
        "status_failed_131026.json": to_customer(
            OTHMANE,
            OUR_PROMO_TO_OTHMANE,
            450,
            "failed",
            errors=[meta_error(131026, "Message undeliverable", "Message Undeliverable.")],
        ),
        "status_failed_131049.json": to_customer(
            LEILA,
            wamid(LEILA, "promo-leila", inbound=False),
            455,
            "failed",
            errors=[
                meta_error(
                    131049,
                    "This message was not delivered to maintain healthy ecosystem engagement.",
                    "In order to maintain a healthy ecosystem engagement, the message failed to "
                    "be delivered.",
                )
            ],
        ),
        "status_sent_free_entry_point.json": to_customer(
            AMINA,
            OUR_CONFIRMATION_TO_AMINA,
            460,
            "sent",
            conversation={
                "id": "79799967b5cca5a644ccb034c00161f1",
                "expiration_timestamp": str(T0 + 460 + 259200),
                "origin": {"type": "referral_conversion"},
            },
            pricing=pricing("referral_conversion", "free_entry_point"),
        ),
        "status_sent_legacy_cbp.json": to_customer(
            Person(HAMZA.name, HAMZA.wa_id, None),
            wamid(HAMZA, "legacy-hamza", inbound=False),
            470,
            "sent",
            conversation={
                "id": "5bc427580b11e65964d10c1d5ce105bd",
                "expiration_timestamp": str(T0 + 470 + 86400),
                "origin": {"type": "service"},
            },
            pricing=pricing("service", None, billable=True, model="CBP"),
        ),
    }


def _batch() -> Body:
    """Two WABAs, four changes: messages of three customers, statuses listed read before
    delivered, a reaction and a failed send on the second number."""
    first = value(
        contacts=[KARIM, AMINA],
        messages=[
            message(KARIM, 500, "text", {"body": "Salam"}),
            message(
                AMINA,
                501,
                "image",
                _media(
                    "9547784291622870",
                    "image/png",
                    "GaVCDudadjyVY3LyMoXGS+iC+O8t4bAANWt49wT+WsY=",
                    url=False,
                ),
            ),
            message(KARIM, 503, "text", {"body": "Jawbni 3afak f a9rab wa9t"}),
        ],
    )
    statuses = value(
        contacts=[HAMZA, LEILA],
        statuses=[
            status(HAMZA, OUR_OFFER_TO_HAMZA, 502, "read"),
            status(HAMZA, OUR_OFFER_TO_HAMZA, 499, "delivered", pricing=FREE_SERVICE),
            status(LEILA, OUR_TRACKING_TO_LEILA, 498, "sent", pricing=FREE_SERVICE),
        ],
    )
    reaction = message(
        OTHMANE, 505, "reaction", {"message_id": OUR_PROMO_TO_OTHMANE, "emoji": "\u2764\ufe0f"}
    )
    pair_limit = meta_error(
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    )
    failed = status(
        OTHMANE, wamid(OTHMANE, "second-shop", inbound=False), 506, "failed", errors=[pair_limit]
    )
    second = [value(PNID_2, [OTHMANE], messages=[reaction]), value(PNID_2, statuses=[failed])]
    return envelope((WABA, [first, statuses]), (WABA_2, second))


def _unicode() -> Body:
    text = (
        "\u00c7a va? \u0627\u0644\u0633\u0644\u0627\u0645 \u0639\u0644\u064a\u0643\u0645 "
        "\U0001f44b \u2014 email: amina.chraibi@example.ma, suivi: https://exemple.ma/colis"
    )
    return from_customer(AMINA, 320, "text", {"body": text})


def pretty(body: Body) -> bytes:
    return json.dumps(body, indent=2).encode() + b"\n"


def wire(body: Body) -> bytes:
    """Meta's own wire style: one line, non-ASCII as \\uXXXX, `/` as `\\/`, `@` as `\\u0040`
    (valid JSON that no re-serialisation gives back: the signature is over these bytes)."""
    text = json.dumps(body, separators=(",", ":"))
    return text.replace("/", "\\/").replace("@", "\\u0040").encode()


def _bodies() -> dict[str, bytes]:
    built: dict[str, Body] = {
        **_messages(),
        **_statuses(),
        "msg_system_user_changed_number.json": _system_message(),
        "msg_with_value_errors.json": _with_value_errors(),
        "value_errors_only.json": _value_errors_only(),
        "other_field_template_status_update.json": _template_status_update(),
        "batch_multi_entry.json": _batch(),
    }
    found = {name: pretty(body) for name, body in built.items()}
    return found | {"msg_text_unicode_compact.json": wire(_unicode())}


BODIES = _bodies()
"""Each webhook body by name, as the bytes to post (pretty-printed, except the wire one)."""


def sequence(name: str) -> list[bytes]:
    """Bodies to post one after the other, each compact (Meta's deliveries are one line)."""
    sequences = {
        # The same delivery twice, byte for byte (a redelivery).
        "duplicate_redelivery.json": [from_customer(KARIM, 700, "text", {"body": "Kayn jdid?"})]
        * 2,
        # One message's statuses delivered read, then delivered, then sent.
        "statuses_out_of_order.json": [
            to_customer(AMINA, OUR_CONFIRMATION_TO_AMINA, 812, "read"),
            to_customer(AMINA, OUR_CONFIRMATION_TO_AMINA, 805, "delivered", pricing=FREE_SERVICE),
            to_customer(AMINA, OUR_CONFIRMATION_TO_AMINA, 801, "sent", pricing=FREE_SERVICE),
        ],
    }
    return [json.dumps(b, separators=(",", ":")).encode() for b in sequences[name]]
