"""A conversation's timeline: its messages, internal notes and activity trail, merged by time
(pure)."""

import heapq
from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from inbox.conversations.messages import Message
from inbox.notes.model import Note
from inbox.team.model import Activity
from inbox.values import Frozen

TimelineItem = Annotated[Message | Note | Activity, Field(discriminator="kind")]


class TimelinePage(Frozen):
    items: list[TimelineItem] = Field(description="Oldest first: messages, notes and activity")
    next_cursor: str | None = Field(description="Pass as `cursor` for older items")


def merge_newest(
    sources: Sequence[Sequence[Message | Note | Activity]], limit: int
) -> list[Message | Note | Activity]:
    """The `limit` newest of several newest-first lists, newest first (ties broken by id)."""
    merged = heapq.merge(*sources, key=lambda item: (item.at, item.id), reverse=True)
    return [item for _, item in zip(range(limit), merged, strict=False)]
