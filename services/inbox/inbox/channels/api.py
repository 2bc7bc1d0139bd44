"""HTTP routes of the business numbers: the number selector, read receipts, and templates."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.contracts.whatsapp import TemplatesSyncRequested, TemplatesSyncRequestedEvent
from hanout_shared.platform.auth import Admin, Agent
from hanout_shared.platform.errors import ApiError, not_found
from hanout_shared.platform.kafka import publish_event
from hanout_shared.platform.logs import correlation_id
from inbox.channels.model import Channel
from inbox.channels.templates import TemplateView, view
from inbox.deps import NOT_FOUND, InboxDep
from inbox.kafka import outbound_commands
from inbox.values import SOURCE

router = APIRouter(tags=["channels"])


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    read_receipts: bool = Field(description="Tell Meta (blue ticks) when an agent reads")


class ChannelTemplateList(BaseModel):
    phone_number_id: str
    synced_at: datetime | None = Field(description="When ingest last read them from Meta")
    templates: list[TemplateView] = Field(description="Approved templates, with what each needs")


class SyncRequested(BaseModel):
    command_id: str


async def _channel(inbox: InboxDep, workspace_id: str, phone_number_id: str) -> Channel:
    channel = await inbox.store.channels.get(workspace_id, phone_number_id)
    if channel is None:
        raise not_found("Channel")
    return channel


@router.get("/channels", summary="The workspace's business numbers, for the number selector")
async def list_channels(agent: Agent, inbox: InboxDep) -> list[Channel]:
    return await inbox.store.channels.list(agent.workspace_id)


@router.put(
    "/channels/{phone_number_id}/settings",
    summary="A number's inbox settings (admins)",
    responses=NOT_FOUND,
)
async def update_channel(
    phone_number_id: str, body: ChannelSettings, agent: Admin, inbox: InboxDep
) -> Channel:
    channels = inbox.store.channels
    updated = await channels.set_read_receipts(
        agent.workspace_id, phone_number_id, body.read_receipts
    )
    if updated is None:
        raise not_found("Channel")
    return updated


@router.get(
    "/channels/{phone_number_id}/templates",
    summary="The number's approved templates and the parameters each needs",
    responses=NOT_FOUND,
)
async def list_templates(
    phone_number_id: str, agent: Agent, inbox: InboxDep
) -> ChannelTemplateList:
    await _channel(inbox, agent.workspace_id, phone_number_id)
    synced = await inbox.store.templates.for_channel(agent.workspace_id, phone_number_id)
    return ChannelTemplateList(
        phone_number_id=phone_number_id,
        synced_at=synced.synced_at if synced else None,
        templates=[view(t) for t in synced.templates] if synced else [],
    )


@router.post(
    "/channels/{phone_number_id}/templates/sync",
    status_code=202,
    summary="Ask ingest to read the number's templates from Meta again (admins)",
    responses=NOT_FOUND,
)
async def sync_templates(phone_number_id: str, agent: Admin, inbox: InboxDep) -> SyncRequested:
    await _channel(inbox, agent.workspace_id, phone_number_id)
    command = TemplatesSyncRequestedEvent.create(
        source=SOURCE,
        workspaceid=agent.workspace_id,
        subject=phone_number_id,
        data=TemplatesSyncRequested(phone_number_id=phone_number_id, reason="on_demand"),
        actorid=agent.agent_id,
        actorname=agent.name,
        correlationid=correlation_id.get(),
    )
    try:
        await publish_event(outbound_commands, command)
    except Exception as exc:  # nothing was stored: the admin can simply ask again
        raise ApiError(503, "kafka_unavailable", "The request could not be queued") from exc
    return SyncRequested(command_id=command.id)
