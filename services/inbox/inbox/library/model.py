"""The content library: a workspace's stored files, their kinds, and Meta media ids (pure)."""

import hashlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from hanout_shared.contracts import deterministic_id
from hanout_shared.contracts.whatsapp import MediaContent
from inbox.values import Cursor, Frozen, Person, fold

Kind = Literal["image", "video", "audio", "document"]
# WhatsApp plays these inline; any other file is sent as a document.
INLINE: dict[Kind, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
    "audio": frozenset(
        {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/opus"}
    ),
}
# Meta keeps an uploaded media id 30 days; renew a day early so a send never carries a dead id.
MEDIA_ID_LIFETIME = timedelta(days=29)


class MediaRef(Frozen):
    """The file as uploaded to Meta for one business number."""

    media_id: str
    uploaded_at: datetime
    expires_at: datetime


class LibraryItem(Frozen):
    id: str
    name: str = Field(description="What the team calls it; searched")
    kind: Kind
    mime_type: str
    filename: str
    size: int = Field(description="Bytes")
    sha256: str
    added_by: Person
    added_at: datetime
    media: dict[str, MediaRef] = Field(
        default={}, description="Per business number: the Meta media id while it is valid"
    )


class LibraryPage(Frozen):
    items: list[LibraryItem] = Field(description="Newest first")
    next_cursor: str | None


class LibraryQuery(Frozen):
    text: str | None = None
    kind: Kind | None = None
    after: Cursor | None = None
    limit: int = 50


def kind_of(mime_type: str) -> Kind:
    for kind, types in INLINE.items():
        if mime_type in types:
            return kind
    return "document"


def item_id(workspace_id: str, content: bytes) -> tuple[str, str]:
    """The same file in the same workspace is one item: uploaded once."""
    digest = hashlib.sha256(content).hexdigest()
    return deterministic_id(workspace_id, "library", digest), digest


def search_text(text: str | None) -> str | None:
    folded = fold(text or "")
    return folded or None


def valid_media(item: LibraryItem, phone_number_id: str, now: datetime) -> str | None:
    """The number's media id of this file, unless Meta may have forgotten it."""
    ref = item.media.get(phone_number_id)
    return ref.media_id if ref is not None and ref.expires_at > now else None


def media_ref(media_id: str, now: datetime) -> MediaRef:
    return MediaRef(media_id=media_id, uploaded_at=now, expires_at=now + MEDIA_ID_LIFETIME)


def media_content(item: LibraryItem, media_id: str, caption: str | None) -> MediaContent:
    """What is sent: an audio has no caption, a document keeps its file name."""
    return MediaContent(
        kind=item.kind,
        media_id=media_id,
        caption=caption if item.kind != "audio" else None,
        filename=item.filename if item.kind == "document" else None,
    )
