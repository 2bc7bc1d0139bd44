"""Kafka side of sending: the one consumer of whatsapp.outbound.v1, each command Meta must do."""

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import (
    MarkReadRequestedEvent,
    OutboundCommand,
    SendRequestedEvent,
    TemplatesSyncRequestedEvent,
)
from hanout_shared.platform.consuming import Consumers
from ingest.deps import IngestDeps
from ingest.kafka import publish

Command = SendRequestedEvent | MarkReadRequestedEvent | TemplatesSyncRequestedEvent
COMMANDS = (SendRequestedEvent, MarkReadRequestedEvent, TemplatesSyncRequestedEvent)


async def on_outbound_command(command: Command, deps: IngestDeps) -> None:
    if isinstance(command, TemplatesSyncRequestedEvent):
        outgoing = [await deps.templates.requested(command)]
    else:
        outgoing = await deps.sender.handle(command)
    for item in outgoing:
        await publish(item)


def subscribe(consumers: Consumers[IngestDeps]) -> None:
    """The command consumer, in the group `consumers` was built with: configuration, so separate
    deployments sharing one broker (test stacks) do not steal each other's commands. Replicas
    share one group, and one subscriber takes every command (template syncs included): two in a
    group would split the partitions between them. A command that cannot be read goes to
    ingest.deadletter.v1."""
    consumers.subscribe(topics.WHATSAPP_OUTBOUND, OutboundCommand, COMMANDS, on_outbound_command)
