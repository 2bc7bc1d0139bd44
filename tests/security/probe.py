"""One HTTP call read with a cap, so a streaming endpoint cannot hold a check forever."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

READ_LIMIT = 256 * 1024
READ_SECONDS = 5.0
STREAM_SECONDS = 1.0  # a live stream's first events come at once; it never ends by itself


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: httpx.Headers

    def json(self) -> Any:
        return json.loads(self.text)


async def _read(response: httpx.Response, chunks: list[bytes]) -> None:
    """Into `chunks`, so what came before a timeout is kept."""
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        if sum(map(len, chunks)) >= READ_LIMIT:
            return


async def probe(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Answer:
    async with http.stream(method, url, **kwargs) as response:
        chunks: list[bytes] = []
        streams = "event-stream" in response.headers.get("content-type", "")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                _read(response, chunks), STREAM_SECONDS if streams else READ_SECONDS
            )
        text = b"".join(chunks).decode(errors="replace")
        return Answer(response.status_code, text, response.headers)


def leaked(answer: Answer, marks: set[str], url: str) -> set[str]:
    """The marks an answer shows, beyond those the caller itself put in the URL."""
    return {mark for mark in marks if mark in answer.text and mark not in url}
