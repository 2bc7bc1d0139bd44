"""HTTP routes of the content library: upload once, list and search, send in one call."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.downloads import file_headers
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from inbox.conversations.messages import Message
from inbox.conversations.model import ConversationRow
from inbox.deps import InboxDep, InboxDeps, Limit, page_cursor
from inbox.library.model import (
    Kind,
    LibraryItem,
    LibraryPage,
    LibraryQuery,
    item_id,
    kind_of,
    media_content,
    media_ref,
    search_text,
    valid_media,
)
from inbox.sending.send import (
    IdempotencyKey,
    SendOrder,
    check_window,
    client_key,
    fingerprint,
    replayed,
    submit,
)
from inbox.values import Person, encode_cursor, to_ms

router = APIRouter(tags=["library"])
FILE = {"type": "string", "format": "binary", "description": "The file's bytes"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


class SendFromLibrary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=200)
    caption: str | None = Field(default=None, max_length=1024, description="Not for audio")
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    reply_to_message_id: str | None = Field(default=None, max_length=200)


async def _body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"Library files are limited to {limit} bytes")
        chunks.append(chunk)
    if not size:
        raise ApiError(422, "empty_file", "The request body is the file and must not be empty")
    return b"".join(chunks)


async def _item(inbox: InboxDeps, agent: Principal, item: str) -> LibraryItem:
    found = await inbox.store.library.get(agent.workspace_id, item)
    if found is None:
        raise not_found("Library item")
    return found


@router.post(
    "/library",
    status_code=201,
    summary="Add a file to the library (the body is the file, Content-Type its type)",
    responses={200: {"description": "This file is in the library already"}, **_errors(413, 422)},
    openapi_extra={"requestBody": {"required": True, "content": {"*/*": {"schema": FILE}}}},
)
async def upload(
    request: Request,
    response: Response,
    agent: Agent,
    inbox: InboxDep,
    filename: Annotated[str, Query(min_length=1, max_length=240)],
    content_type: Annotated[str, Header(min_length=3, max_length=200)],
    name: Annotated[str | None, Query(max_length=200, description="Default: the file name")] = None,
) -> LibraryItem:
    content = await _body(request, inbox.library_max_bytes)
    mime = content_type.split(";")[0].strip().lower()
    new_id, digest = item_id(agent.workspace_id, content)
    item = LibraryItem(
        id=new_id,
        name=(name or filename).strip() or filename,
        kind=kind_of(mime),
        mime_type=mime,
        filename=filename,
        size=len(content),
        sha256=digest,
        added_by=Person(id=agent.agent_id, name=agent.name),
        added_at=to_ms(datetime.now(UTC)),
    )
    kept, added = await inbox.store.library.add(agent.workspace_id, item, content)
    if not added:
        response.status_code = 200
    return kept


@router.get("/library", summary="The library, newest first; search by name, filter by kind")
async def list_library(
    agent: Agent,
    inbox: InboxDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: Kind | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> LibraryPage:
    query = LibraryQuery(text=search_text(q), kind=kind, after=page_cursor(cursor), limit=limit + 1)
    found = await inbox.store.library.page(agent.workspace_id, query)
    last = found[limit - 1] if len(found) > limit else None
    return LibraryPage(
        items=found[:limit], next_cursor=encode_cursor(last.added_at, last.id) if last else None
    )


@router.get("/library/{item_id}", summary="One library item", responses=_errors(404))
async def get_item(item_id: str, agent: Agent, inbox: InboxDep) -> LibraryItem:
    return await _item(inbox, agent, item_id)


@router.get(
    "/library/{item_id}/file",
    summary="The stored file itself: raster images, audio and video inline, anything else an "
    "attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **_errors(404)},
)
async def get_file(item_id: str, agent: Agent, inbox: InboxDep) -> Response:
    item = await _item(inbox, agent, item_id)
    content = await inbox.store.library.content(item.id)
    headers = file_headers(item.mime_type, item.filename)
    headers["Cache-Control"] = "private, max-age=3600"
    return Response(content, media_type=item.mime_type, headers=headers)


@router.delete(
    "/library/{item_id}",
    status_code=204,
    summary="Remove a file from the library (who added it, or an admin)",
    responses=_errors(403, 404),
)
async def delete_item(item_id: str, agent: Agent, inbox: InboxDep) -> None:
    item = await _item(inbox, agent, item_id)
    if item.added_by.id != agent.agent_id and not agent.has_role("admin"):
        raise ApiError(403, "forbidden", "Only who added the file, or an admin, can remove it")
    if not await inbox.store.library.delete(agent.workspace_id, item.id):
        raise not_found("Library item")


async def _media_id(
    request: Request, inbox: InboxDeps, row: ConversationRow, item: LibraryItem
) -> str:
    """The Meta media id for this number: the stored one while valid, else a fresh upload."""
    now = datetime.now(UTC)
    if (kept := valid_media(item, row.phone_number_id, now)) is not None:
        return kept
    content = await inbox.store.library.content(item.id)
    token = request.headers["authorization"].partition(" ")[2]
    uploaded = await inbox.ingest.upload(
        token, row.phone_number_id, item.filename, item.mime_type, content
    )
    ref = media_ref(uploaded, now)
    await inbox.store.library.remember_media(row.workspace_id, item.id, row.phone_number_id, ref)
    return uploaded


@router.post(
    "/conversations/{conversation_id}/messages/library",
    status_code=201,
    summary="Send a library file into the conversation in one call",
    responses={
        200: {"description": "The same key was sent before: that message"},
        **_errors(404, 409, 422, 502, 503),
    },
)
async def send_from_library(
    conversation_id: str,
    body: SendFromLibrary,
    agent: Agent,
    inbox: InboxDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Message:
    key = client_key(idempotency_key, body.client_id)
    row = await inbox.conversation(agent, conversation_id)
    body_fingerprint = fingerprint(body)
    if (earlier := await replayed(inbox, row, key, body_fingerprint, response)) is not None:
        return earlier
    item = await _item(inbox, agent, body.item_id)
    content = media_content(item, "pending", body.caption)
    check_window(row, content)  # before uploading anything
    content = media_content(item, await _media_id(request, inbox, row, item), body.caption)
    order = SendOrder(
        key=key,
        fingerprint=body_fingerprint,
        content=content,
        reply_to_message_id=body.reply_to_message_id,
    )
    return await submit(inbox, row, agent, order, response)
