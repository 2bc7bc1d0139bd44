"""Composition root of the inbox: the only place that reads settings and builds clients."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Gauge

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from inbox import api, channels, handlers, library_api, notes, sending, stream, team
from inbox.library_api import IngestMedia
from inbox.live import Hub
from inbox.relay import OutboxRelay
from inbox.replay import TopicReader
from inbox.settings import InboxSettings
from inbox.store import Store, connect


def create_app(
    settings: InboxSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or InboxSettings()
    configure_logging("inbox", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="inbox", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    handlers.name_consumer_groups(settings.consumer_group)
    relay = OutboxRelay(
        [store.messages.outbox, store.conversations.outbox, store.notes.outbox],
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
    )
    hub = Hub(
        per_workspace=settings.live_buffer_events,
        max_age_s=settings.live_buffer_age_s,
        client_queue=settings.live_client_queue,
        readiness=handlers.live_assigned,
    )
    ingest = IngestMedia(
        httpx.AsyncClient(base_url=settings.ingest_url, timeout=settings.ingest_timeout_s)
    )
    poison = Counter(
        "inbox_poison_messages",
        "Consumed messages skipped because they can never be processed",
        ["topic", "reason"],
        registry=registry,
    )
    Gauge(
        "inbox_live_clients", "Open live streams on this replica", registry=registry
    ).set_function(hub.connected)
    app = build_service(
        name="inbox",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[
            api.router,
            sending.router,
            notes.router,
            team.router,
            stream.router,
            library_api.router,
            channels.router,
        ],
        kafka_routers=[handlers.router],
        state={"store": store, "relay": relay, "poison_messages": poison, "hub": hub},
        on_startup=[store.ensure_indexes, relay.start, hub.start],
        on_shutdown=[relay.stop, hub.stop, ingest.aclose],
        description="Conversations, messages, the 24-hour window, sending, notes, assignment, "
        "presence, the activity trail, the content library and live updates.",
    )
    app.state.ingest_media = ingest
    app.state.topic_reader = TopicReader(
        settings.kafka_bootstrap_servers, limit=settings.live_replay_limit
    )
    app.state.presence_ttl = timedelta(seconds=settings.presence_ttl_s)
    app.state.publish_timeout_s = settings.publish_timeout_s
    app.state.keepalive_s = settings.stream_keepalive_s
    app.state.library_max_bytes = settings.library_max_bytes
    return app
