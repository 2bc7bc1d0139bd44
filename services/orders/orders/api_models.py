"""What the API reads and answers beyond the domain values of model.py: stage moves,
cancellations, pages, the version a caller saw, and the time a request acts at."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from hanout_shared.platform.errors import ApiError
from orders.model import Order, StageId, Text


class StageMove(BaseModel):
    stage_id: StageId
    expected_version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class Cancellation(BaseModel):
    reason: Text | None = None
    expected_version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class OrderPage(BaseModel):
    items: list[Order] = Field(description="Most recent first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


def now() -> datetime:
    """UTC now at the store's millisecond precision, so a round trip compares equal."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def expected_version(if_match: str | None, in_body: int | None) -> int:
    """The version the caller saw, from If-Match or the body; 428 when it sent neither."""
    header = (if_match or "").removeprefix("W/").strip('"') or None
    if header is not None and not header.isdigit():
        detail = {"field": "header.If-Match", "message": 'must be an order version, e.g. "3"'}
        raise ApiError(422, "validation_failed", "Invalid request: header.If-Match", [detail])
    if header is not None and in_body is not None and int(header) != in_body:
        raise ApiError(422, "validation_failed", "If-Match and expected_version disagree")
    if header is None and in_body is None:
        message = "Send the order version you saw, as If-Match or expected_version"
        raise ApiError(428, "version_required", message)
    return in_body if in_body is not None else int(header or 0)
