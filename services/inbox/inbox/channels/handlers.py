"""Kafka side of the business numbers: the templates read model, kept from ingest's syncs."""

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import TemplatesEvent, TemplatesSyncedEvent
from hanout_shared.platform.consuming import Consumers
from inbox.channels.templates import ChannelTemplates
from inbox.deps import InboxDeps
from inbox.kafka import GROUP_SUFFIXES


def subscribe(consumers: Consumers[InboxDeps]) -> None:
    consumers.subscribe(
        topics.WHATSAPP_TEMPLATES,
        TemplatesEvent,
        [TemplatesSyncedEvent],
        on_templates_synced,
        group_suffix=GROUP_SUFFIXES[topics.WHATSAPP_TEMPLATES],
    )


async def on_templates_synced(event: TemplatesSyncedEvent, deps: InboxDeps) -> None:
    data, store = event.data, deps.store
    synced = ChannelTemplates(
        phone_number_id=data.channel.phone_number_id,
        synced_at=data.synced_at,
        templates=data.templates,
    )
    await store.templates.replace(event.workspaceid, synced)
    await store.channels.remember(
        event.workspaceid, data.channel.phone_number_id, data.channel.display_phone_number
    )
