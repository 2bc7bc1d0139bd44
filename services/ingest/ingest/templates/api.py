"""HTTP route of templates: an admin syncs a channel's approved templates from Meta now."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from hanout_shared.platform.auth import Admin
from hanout_shared.platform.errors import ApiError, not_found
from ingest.deps import IngestDep, PhoneNumberId, error_responses
from ingest.kafka import publish
from ingest.templates.sync import ChannelNotFound, TemplateSyncFailed

router = APIRouter(prefix="/channels", tags=["channels"])


class TemplatesSyncResult(BaseModel):
    phone_number_id: str
    templates: int
    names: list[str]
    synced_at: datetime


@router.post(
    "/{phone_number_id}/templates/sync",
    summary="Read every approved template from Meta now and publish them",
    responses=error_responses(404, 502),
)
async def sync_templates(
    admin: Admin, deps: IngestDep, phone_number_id: PhoneNumberId
) -> TemplatesSyncResult:
    try:
        outgoing = await deps.templates.sync(admin.workspace_id, phone_number_id, "on_demand")
    except ChannelNotFound as exc:
        raise not_found("Channel") from exc
    except TemplateSyncFailed as exc:
        detail = [exc.error.model_dump(exclude_none=True)]
        raise ApiError(502, "graph_error", "Meta refused the template list", detail) from exc
    await publish(outgoing)
    data = outgoing.event.data
    return TemplatesSyncResult(
        phone_number_id=phone_number_id,
        templates=len(data.templates),
        names=sorted({t.name for t in data.templates}),
        synced_at=data.synced_at,
    )
