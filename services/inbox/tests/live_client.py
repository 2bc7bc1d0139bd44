"""A live-stream client for real-stack tests: reads /stream with httpx and keeps every event."""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

DEADLINE_S = 30.0


class Listener:
    """One agent's open stream on one replica, as a browser's EventSource would hold it."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None) -> None:
        self._url, self._token, self._resume = url, token, last_event_id
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> "Listener":
        self._task = asyncio.create_task(self._read())
        await self.wait_for(lambda e: e["event"] in ("ready", "reset"), "the stream opens")
        return self

    async def _read(self) -> None:
        headers = {"Last-Event-ID": self._resume} if self._resume else {}
        params = {"access_token": self._token}  # as EventSource does: no header
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", f"{self._url}/stream", params=params, headers=headers) as answer,
        ):
            answer.raise_for_status()
            fields: dict[str, Any] = {}
            async for line in answer.aiter_lines():
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                    continue
                if "event" in fields:
                    fields["data"] = json.loads(fields.get("data") or "null")
                    self.events.append(fields)
                fields = {}

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]

    @property
    def last_id(self) -> str:
        last: str = self.events[-1]["id"]
        return last

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if found := next((e for e in self.events if match(e)), None):
                return found
            if self._task is not None and self._task.done():
                self._task.result()
                raise AssertionError(f"{what}: the stream ended")
            await asyncio.sleep(0.05)
        raise AssertionError(f"{what}: not within {DEADLINE_S} s")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
