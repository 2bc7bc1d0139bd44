"""HTTP routes of the channels registry (admins of a workspace): register, read, change, disable."""

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hanout_shared.platform.auth import Admin
from hanout_shared.platform.errors import ApiError, not_found
from ingest.channels.model import ChannelRecord
from ingest.channels.store import ChannelExists
from ingest.deps import GRAPH_ID_PATTERN, IngestDep, IngestDeps, PhoneNumberId, error_responses

logger = logging.getLogger("hanout.ingest.channels")
router = APIRouter(prefix="/channels", tags=["channels"])
DIGITS = GRAPH_ID_PATTERN


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


def _check_app(deps: IngestDeps, app_id: str | None) -> None:
    if app_id is not None and app_id not in deps.meta_app_ids:
        raise ApiError(422, "unknown_meta_app", f"Meta app {app_id!r} is not configured")


def _changed(deps: IngestDeps, what: str, record: ChannelRecord, agent_id: str) -> None:
    deps.directory.invalidate()
    audit = {"phone_number_id": record.phone_number_id, "workspace_id": record.workspace_id}
    logger.info(f"channel {what}", extra={**audit, "actor_id": agent_id})


@router.post(
    "", status_code=201, summary="Register a business number", responses=error_responses(409, 422)
)
async def add_channel(admin: Admin, deps: IngestDep, body: ChannelCreate) -> ChannelView:
    _check_app(deps, body.meta_app_id)
    now = datetime.now(UTC)
    record = ChannelRecord(
        **body.model_dump(), workspace_id=admin.workspace_id, created_at=now, updated_at=now
    )
    try:
        await deps.store.channels.add(record)
    except ChannelExists as exc:
        raise ApiError(409, "channel_exists", "This phone_number_id is already registered") from exc
    _changed(deps, "registered", record, admin.agent_id)
    return ChannelView.of(record)


@router.get("", summary="The business numbers of the caller's workspace")
async def list_channels(admin: Admin, deps: IngestDep) -> list[ChannelView]:
    records = await deps.store.channels.list_for_workspace(admin.workspace_id)
    return [ChannelView.of(record) for record in records]


async def _get(deps: IngestDeps, workspace_id: str, phone_number_id: str) -> ChannelRecord:
    record = await deps.store.channels.get(workspace_id, phone_number_id)
    if record is None:
        raise not_found("Channel")
    return record


@router.get("/{phone_number_id}", summary="One business number", responses=error_responses(404))
async def get_channel(admin: Admin, deps: IngestDep, phone_number_id: PhoneNumberId) -> ChannelView:
    return ChannelView.of(await _get(deps, admin.workspace_id, phone_number_id))


@router.patch(
    "/{phone_number_id}",
    summary="Change a business number (a new access token replaces the old one)",
    responses=error_responses(404, 422),
)
async def update_channel(
    admin: Admin, deps: IngestDep, phone_number_id: PhoneNumberId, body: ChannelUpdate
) -> ChannelView:
    _check_app(deps, body.meta_app_id)
    changes = body.model_dump(exclude_unset=True)
    record = await deps.store.channels.update(admin.workspace_id, phone_number_id, changes)
    if record is None:
        raise not_found("Channel")
    _changed(deps, f"updated ({', '.join(sorted(changes))})", record, admin.agent_id)
    return ChannelView.of(record)


@router.delete(
    "/{phone_number_id}",
    status_code=204,
    summary="Disable a business number (its webhooks then go to the dead-letter topic)",
    responses=error_responses(404),
)
async def disable_channel(
    admin: Admin, deps: IngestDep, phone_number_id: PhoneNumberId
) -> Response:
    record = await deps.store.channels.update(
        admin.workspace_id, phone_number_id, {"enabled": False}
    )
    if record is None:
        raise not_found("Channel")
    _changed(deps, "disabled", record, admin.agent_id)
    return Response(status_code=204)
