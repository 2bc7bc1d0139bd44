"""HTTP routes of media: upload to Meta (content library), download proxy that hides the token."""

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from hanout_shared.platform.auth import Agent
from hanout_shared.platform.downloads import file_headers
from hanout_shared.platform.errors import ApiError, not_found
from ingest.channels.model import ChannelRecord
from ingest.deps import IngestDep, IngestDeps, MediaId, PhoneNumberId, error_responses
from ingest.graph import (
    ForbiddenHost,
    GraphClient,
    GraphOutcomeUnknown,
    GraphUnreachable,
    graph_error,
)

router = APIRouter(prefix="/channels/{phone_number_id}/media", tags=["media"])
FORWARDED_HEADERS = ("content-type", "content-length")


class MediaUploaded(BaseModel):
    media_id: str
    phone_number_id: str
    mime_type: str
    size: int


async def _channel(deps: IngestDeps, workspace_id: str, phone_number_id: str) -> ChannelRecord:
    record = await deps.store.channels.get(workspace_id, phone_number_id)
    if record is None or not record.enabled:
        raise not_found("Channel")
    return record


def _graph_failed(status: int, payload: Any) -> ApiError:
    error = graph_error(status, payload)
    details = [error.model_dump(exclude_none=True)]
    if status == 404 or error.code == 100:
        return ApiError(404, "media_not_found", "Meta does not know this media id", details)
    return ApiError(502, "graph_error", "Meta refused the media request", details)


async def _read(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"Media files are limited to {limit} bytes")
        chunks.append(chunk)
    if not size:
        raise ApiError(422, "empty_file", "The request body is the file and must not be empty")
    return b"".join(chunks)


@router.post(
    "",
    status_code=201,
    summary="Upload a file to Meta (the body is the file); returns a media id valid 30 days",
    responses=error_responses(404, 413, 422, 502),
)
async def upload_media(
    agent: Agent,
    request: Request,
    deps: IngestDep,
    phone_number_id: PhoneNumberId,
    filename: Annotated[str, Query(min_length=1, max_length=240)],
    content_type: Annotated[str, Header(min_length=3)],
) -> MediaUploaded:
    channel = await _channel(deps, agent.workspace_id, phone_number_id)
    content = await _read(request, deps.media_max_bytes)
    mime = content_type.split(";")[0].strip()
    token = channel.access_token.get_secret_value()
    try:
        answer = await deps.graph.upload_media(phone_number_id, token, filename, mime, content)
    except (GraphUnreachable, GraphOutcomeUnknown) as exc:
        raise ApiError(502, "graph_unreachable", "Meta could not be reached") from exc
    media_id = answer.payload.get("id") if isinstance(answer.payload, dict) else None
    if not answer.ok or not isinstance(media_id, str):
        raise _graph_failed(answer.status, answer.payload)
    return MediaUploaded(
        media_id=media_id, phone_number_id=phone_number_id, mime_type=mime, size=len(content)
    )


async def _open(graph: GraphClient, media_id: str, token: str, number: str) -> httpx.Response:
    """Resolve the id and start the download; a stale URL (Meta's live 5 minutes) is resolved
    once more before giving up."""
    for attempt in (1, 2):
        info = await graph.media_info(media_id, token, number)
        url = info.payload.get("url") if isinstance(info.payload, dict) else None
        if not info.ok or not isinstance(url, str):
            raise _graph_failed(info.status, info.payload)
        upstream = await graph.open_download(url, token)
        if upstream.status_code == 200 or attempt == 2:
            return upstream
        await upstream.aclose()
    raise AssertionError("unreachable: the second attempt returns")


@router.get(
    "/{media_id}",
    summary="Download a media file through ingest (Meta's token never reaches the client); only "
    "raster images, audio and video are inline, anything else is an attachment",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(404, 502)},
)
async def download_media(
    agent: Agent, deps: IngestDep, phone_number_id: PhoneNumberId, media_id: MediaId
) -> StreamingResponse:
    channel = await _channel(deps, agent.workspace_id, phone_number_id)
    token = channel.access_token.get_secret_value()
    try:
        upstream = await _open(deps.graph, media_id, token, phone_number_id)
    except (GraphUnreachable, GraphOutcomeUnknown) as exc:
        raise ApiError(502, "graph_unreachable", "Meta could not be reached") from exc
    except ForbiddenHost as exc:
        raise ApiError(502, "media_host_refused", "Meta answered a URL outside its hosts") from exc
    if upstream.status_code != 200:
        await upstream.aclose()
        raise ApiError(502, "media_download_failed", f"Meta answered {upstream.status_code}")
    forwarded = FORWARDED_HEADERS if "content-encoding" not in upstream.headers else ()
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in forwarded}
    headers |= file_headers(upstream.headers.get("content-type", ""))
    headers["cache-control"] = "private, max-age=300"
    return StreamingResponse(
        upstream.aiter_bytes(), headers=headers, background=BackgroundTask(upstream.aclose)
    )
