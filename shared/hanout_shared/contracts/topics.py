"""Topic names (ARCHITECTURE.md §2). One owning service per topic."""

WEBHOOKS_RAW = "whatsapp.webhooks.raw.v1"
WHATSAPP_INBOUND = "whatsapp.inbound.v1"
WHATSAPP_STATUS = "whatsapp.status.v1"
WHATSAPP_OUTBOUND = "whatsapp.outbound.v1"
WHATSAPP_TEMPLATES = "whatsapp.templates.v1"
WHATSAPP_DEADLETTER = "whatsapp.deadletter.v1"
INBOX_EVENTS = "inbox.events.v1"
CUSTOMERS_EVENTS = "customers.events.v1"
ORDERS_EVENTS = "orders.events.v1"

ALL_TOPICS = (
    WEBHOOKS_RAW,
    WHATSAPP_INBOUND,
    WHATSAPP_STATUS,
    WHATSAPP_OUTBOUND,
    WHATSAPP_TEMPLATES,
    WHATSAPP_DEADLETTER,
    INBOX_EVENTS,
    CUSTOMERS_EVENTS,
    ORDERS_EVENTS,
)

# Compacted: only the latest value per key matters (a channel's approved templates).
COMPACTED_TOPICS = frozenset({WHATSAPP_TEMPLATES})
