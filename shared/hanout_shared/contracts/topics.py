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
# What a service's consumers could not decode or validate (hanout.event.dead_lettered).
INBOX_DEADLETTER = "inbox.deadletter.v1"
CUSTOMERS_DEADLETTER = "customers.deadletter.v1"
ORDERS_DEADLETTER = "orders.deadletter.v1"
INGEST_DEADLETTER = "ingest.deadletter.v1"

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
    INBOX_DEADLETTER,
    CUSTOMERS_DEADLETTER,
    ORDERS_DEADLETTER,
    INGEST_DEADLETTER,
)

# Compacted: only the latest value per key matters (a channel's approved templates).
COMPACTED_TOPICS = frozenset({WHATSAPP_TEMPLATES})
