"""Composition root of the inbox: the only place that reads settings and builds clients."""

import functools
from datetime import timedelta

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Gauge

from hanout_shared.contracts import topics
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.outbox import OutboxRelay
from hanout_shared.platform.service import build_service
from inbox import kafka
from inbox.channels import api as channels_api
from inbox.channels import handlers as channels_handlers
from inbox.conversations import api as conversations_api
from inbox.conversations import handlers as conversations_handlers
from inbox.conversations.reconciler import CountsReconciler
from inbox.deps import InboxDeps
from inbox.library import api as library_api
from inbox.library.ingest import IngestMedia
from inbox.live import api as live_api
from inbox.live import handlers as live_handlers
from inbox.live.hub import Hub
from inbox.live.replay import TopicReader
from inbox.notes import api as notes_api
from inbox.sending import api as sending_api
from inbox.settings import InboxSettings
from inbox.store import Store, connect
from inbox.team import api as team_api
from inbox.team import handlers as team_handlers


def create_app(
    settings: InboxSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: Store | None = None,
    ingest: IngestMedia | None = None,
    topic_reader: TopicReader | None = None,
) -> FastAPI:
    settings = settings or InboxSettings()
    configure_logging("inbox", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="inbox", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    relay = OutboxRelay(
        [store.messages.outbox, store.conversations.outbox, store.notes.outbox],
        {
            topics.INBOX_EVENTS: kafka.inbox_events,
            topics.WHATSAPP_OUTBOUND: kafka.outbound_commands,
        },
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
        registry=registry,
    )
    reconciler = CountsReconciler(
        store.conversations,
        interval_s=settings.counts_sweep_interval_s,
        grace_s=settings.counts_grace_s,
    )
    consumers: Consumers[InboxDeps] = Consumers(
        service="inbox",
        group=settings.consumer_group,
        deadletter_topic=topics.INBOX_DEADLETTER,
        registry=registry,
    )
    for feature in (conversations_handlers, channels_handlers, team_handlers):
        feature.subscribe(consumers)
    live = live_handlers.fan_out(consumers.router, settings.consumer_group)
    hub = Hub(
        per_workspace=settings.live_buffer_events,
        max_age_s=settings.live_buffer_age_s,
        client_queue=settings.live_client_queue,
        readiness=functools.partial(live_handlers.assigned, live),
    )
    Gauge(
        "inbox_live_clients", "Open live streams on this replica", registry=registry
    ).set_function(hub.connected)
    ingest = ingest or IngestMedia(
        httpx.AsyncClient(base_url=settings.ingest_url, timeout=settings.ingest_timeout_s)
    )
    deps = InboxDeps(
        store=store,
        relay=relay,
        hub=hub,
        ingest=ingest,
        topic_reader=topic_reader
        or TopicReader(settings.kafka_bootstrap_servers, limit=settings.live_replay_limit),
        presence_ttl=timedelta(seconds=settings.presence_ttl_s),
        publish_timeout_s=settings.publish_timeout_s,
        keepalive_s=settings.stream_keepalive_s,
        library_max_bytes=settings.library_max_bytes,
    )
    return build_service(
        name="inbox",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[
            conversations_api.router,
            sending_api.router,
            notes_api.router,
            team_api.router,
            live_api.router,
            library_api.router,
            channels_api.router,
        ],
        kafka_routers=[kafka.router, consumers.router],
        deps=deps,
        on_startup=[store.ensure_indexes, relay.start, hub.start, reconciler.start],
        on_shutdown=[relay.stop, hub.stop, reconciler.stop, ingest.aclose],
        description="Conversations, messages, the 24-hour window, sending, notes, assignment, "
        "presence, the activity trail, the content library and live updates.",
    )
