"""Composition root of the inbox: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from inbox import api, handlers
from inbox.settings import InboxSettings
from inbox.store import ConversationStore, connect


def create_app(
    settings: InboxSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: ConversationStore | None = None,
) -> FastAPI:
    settings = settings or InboxSettings()
    configure_logging("inbox", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="inbox", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or ConversationStore(client[settings.mongodb_database])
    return build_service(
        name="inbox",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router],
        state={"store": store},
        on_startup=[store.ensure_indexes],
        description="Conversations, messages, the 24-hour window and sending.",
    )
