"""The channels registry API (admins of a workspace) and template sync on demand."""

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hanout_shared.platform.auth import Admin
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from hanout_shared.platform.kafka import publish_event
from ingest.handlers import PUBLISHERS
from ingest.model import ChannelRecord
from ingest.store import ChannelDirectory, ChannelExists, IngestStore
from ingest.templates import ChannelNotFound, TemplateSync, TemplateSyncFailed

logger = logging.getLogger("hanout.ingest.channels")
router = APIRouter(prefix="/channels", tags=["channels"])
DIGITS = r"^[0-9]{1,32}$"


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(pattern=DIGITS, description="Meta's id of the business number")
    meta_app_id: str = Field(min_length=1, description="One of the apps in INGEST_META_APPS")
    access_token: SecretStr = Field(description="Write-only: never returned or logged")
    display_phone_number: str | None = Field(default=None, max_length=32)
    waba_id: str | None = Field(default=None, pattern=DIGITS)
    name: str | None = Field(default=None, max_length=120)


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meta_app_id: str | None = Field(default=None, min_length=1)
    access_token: SecretStr | None = Field(default=None, description="Write-only")
    display_phone_number: str | None = Field(default=None, max_length=32)
    waba_id: str | None = Field(default=None, pattern=DIGITS)
    name: str | None = Field(default=None, max_length=120)
    enabled: bool | None = None


class ChannelView(BaseModel):
    """A channel as the API shows it: the access token is write-only and never appears."""

    phone_number_id: str
    workspace_id: str
    meta_app_id: str
    display_phone_number: str | None
    waba_id: str | None
    name: str | None
    enabled: bool
    has_access_token: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ChannelRecord) -> "ChannelView":
        fields = record.model_dump(exclude={"access_token"})
        return cls(**fields, has_access_token=bool(record.access_token.get_secret_value()))


class TemplatesSyncResult(BaseModel):
    phone_number_id: str
    templates: int
    names: list[str]
    synced_at: datetime


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}


def _store(request: Request) -> IngestStore:
    store: IngestStore = request.app.state.store
    return store


def _check_app(request: Request, app_id: str | None) -> None:
    if app_id is not None and app_id not in request.app.state.meta_app_ids:
        raise ApiError(422, "unknown_meta_app", f"Meta app {app_id!r} is not configured")


def _changed(request: Request, what: str, record: ChannelRecord, agent_id: str) -> None:
    directory: ChannelDirectory = request.app.state.directory
    directory.invalidate()
    audit = {"phone_number_id": record.phone_number_id, "workspace_id": record.workspace_id}
    logger.info(f"channel {what}", extra={**audit, "actor_id": agent_id})


@router.post("", status_code=201, summary="Register a business number", responses=_errors(409, 422))
async def add_channel(admin: Admin, request: Request, body: ChannelCreate) -> ChannelView:
    _check_app(request, body.meta_app_id)
    now = datetime.now(UTC)
    record = ChannelRecord(
        **body.model_dump(), workspace_id=admin.workspace_id, created_at=now, updated_at=now
    )
    try:
        await _store(request).channels.add(record)
    except ChannelExists as exc:
        raise ApiError(409, "channel_exists", "This phone_number_id is already registered") from exc
    _changed(request, "registered", record, admin.agent_id)
    return ChannelView.of(record)


@router.get("", summary="The business numbers of the caller's workspace")
async def list_channels(admin: Admin, request: Request) -> list[ChannelView]:
    records = await _store(request).channels.list_for_workspace(admin.workspace_id)
    return [ChannelView.of(record) for record in records]


async def _get(request: Request, workspace_id: str, phone_number_id: str) -> ChannelRecord:
    record = await _store(request).channels.get(workspace_id, phone_number_id)
    if record is None:
        raise not_found("Channel")
    return record


@router.get("/{phone_number_id}", summary="One business number", responses=_errors(404))
async def get_channel(admin: Admin, request: Request, phone_number_id: str) -> ChannelView:
    return ChannelView.of(await _get(request, admin.workspace_id, phone_number_id))


@router.patch(
    "/{phone_number_id}",
    summary="Change a business number (a new access token replaces the old one)",
    responses=_errors(404, 422),
)
async def update_channel(
    admin: Admin, request: Request, phone_number_id: str, body: ChannelUpdate
) -> ChannelView:
    _check_app(request, body.meta_app_id)
    changes = body.model_dump(exclude_unset=True)
    record = await _store(request).channels.update(admin.workspace_id, phone_number_id, changes)
    if record is None:
        raise not_found("Channel")
    _changed(request, f"updated ({', '.join(sorted(changes))})", record, admin.agent_id)
    return ChannelView.of(record)


@router.delete(
    "/{phone_number_id}",
    status_code=204,
    summary="Disable a business number (its webhooks then go to the dead-letter topic)",
    responses=_errors(404),
)
async def disable_channel(admin: Admin, request: Request, phone_number_id: str) -> Response:
    store = _store(request).channels
    record = await store.update(admin.workspace_id, phone_number_id, {"enabled": False})
    if record is None:
        raise not_found("Channel")
    _changed(request, "disabled", record, admin.agent_id)
    return Response(status_code=204)


@router.post(
    "/{phone_number_id}/templates/sync",
    summary="Read every approved template from Meta now and publish them",
    responses=_errors(404, 502),
)
async def sync_templates(
    admin: Admin, request: Request, phone_number_id: str
) -> TemplatesSyncResult:
    templates: TemplateSync = request.app.state.templates
    try:
        outgoing = await templates.sync(admin.workspace_id, phone_number_id, "on_demand")
    except ChannelNotFound as exc:
        raise not_found("Channel") from exc
    except TemplateSyncFailed as exc:
        detail = [exc.error.model_dump(exclude_none=True)]
        raise ApiError(502, "graph_error", "Meta refused the template list", detail) from exc
    await publish_event(PUBLISHERS[outgoing.topic], outgoing.event)
    data = outgoing.event.data
    return TemplatesSyncResult(
        phone_number_id=phone_number_id,
        templates=len(data.templates),
        names=sorted({t.name for t in data.templates}),
        synced_at=data.synced_at,
    )
