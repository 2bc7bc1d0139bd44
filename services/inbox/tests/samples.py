"""One representative message of every WhatsApp type, and the summary the inbox gives it."""

from decimal import Decimal
from typing import Any

from hanout_shared.contracts.whatsapp import (
    CatalogOrder,
    Location,
    Media,
    MetaError,
    OrderItem,
    Reply,
    SharedContact,
    SharedPhone,
    SystemNotice,
)

# One representative message per WhatsApp type, and the summary the inbox gives it.
SAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "text": ({"text": "Salam, bghit n3ref taman"}, "Salam, bghit n3ref taman"),
    "image": (
        {
            "media": Media(id="m-img", mime_type="image/jpeg", caption="had l-lon?"),
            "text": "had l-lon?",
        },
        "Photo: had l-lon?",
    ),
    "video": ({"media": Media(id="m-vid", mime_type="video/mp4")}, "Video"),
    "audio": ({"media": Media(id="m-aud", mime_type="audio/ogg", voice=True)}, "Voice message"),
    "document": (
        {"media": Media(id="m-doc", mime_type="application/pdf", filename="facture.pdf")},
        "Document: facture.pdf",
    ),
    "sticker": ({"media": Media(id="m-stk", mime_type="image/webp", animated=True)}, "Sticker"),
    "location": (
        {"location": Location(latitude=33.58, longitude=-7.63, name="Maarif"), "text": "Maarif"},
        "Location: Maarif",
    ),
    "contacts": (
        {
            "contacts": [
                SharedContact(
                    formatted_name="Hassan", phones=[SharedPhone(phone="+212 661-000111")]
                )
            ]
        },
        "Contact: Hassan",
    ),
    "interactive": (
        {"reply": Reply(kind="button_reply", id="confirm", title="Confirmer")},
        "Reply: Confirmer",
    ),
    "button": ({"reply": Reply(kind="template_button", id="yes", title="Oui")}, "Reply: Oui"),
    "order": (
        {
            "order": CatalogOrder(
                catalog_id="cat-1",
                items=[
                    OrderItem(
                        product_retailer_id="sku-1",
                        quantity=2,
                        item_price=Decimal("149.50"),
                        currency="MAD",
                    ),
                    OrderItem(
                        product_retailer_id="sku-2",
                        quantity=1,
                        item_price=Decimal("99"),
                        currency="MAD",
                    ),
                ],
            )
        },
        "Order: 3 items, 398.00 MAD",
    ),
    "system": (
        {"system": SystemNotice(body="Karim changed their number", type="user_changed_number")},
        "Karim changed their number",
    ),
    "unsupported": (
        {"original_type": "poll", "errors": [MetaError(code=131051, title="Unsupported type")]},
        "Unsupported message (poll)",
    ),
    "unknown": (
        {"original_type": "hologram", "raw": {"type": "hologram"}},
        "Unsupported message (hologram)",
    ),
    "request_welcome": ({}, "Opened the chat"),
}
