"""What the journeys drive: a workspace's agent on the four APIs, the simulator's customers."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import phonenumbers

from .stack import Stack, token

T = TypeVar("T")
DEADLINE_S = 90.0  # a loaded 2-core machine runs five processes, the broker and the store


class Pending:
    """A falsy answer of a check that says what it saw, for the failure message."""

    def __init__(self, seen: Any) -> None:
        self.seen = seen

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return repr(self.seen)


async def eventually(
    check: Callable[[], Awaitable[T | Pending | None]], what: str, timeout: float = DEADLINE_S
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        result = await check()
        if result and not isinstance(result, Pending):
            return result
        last = result
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last seen: {last!r})")


@dataclass(frozen=True)
class Channel:
    phone_number_id: str
    display_phone_number: str
    waba_id: str


def a_channel() -> Channel:
    return Channel(
        phone_number_id=str(random.randrange(10**14, 10**15)),
        display_phone_number=f"2125{random.randrange(10**7, 10**8)}",
        waba_id=str(random.randrange(10**14, 10**15)),
    )


def a_moroccan_mobile() -> str:
    """A wa_id: a valid +212 6 mobile (per libphonenumber) in international digits."""
    while True:
        wa_id = f"2126{random.randrange(10**7, 10**8)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{wa_id}")):
            return wa_id


class Agent:
    """One workspace's agent (or admin) calling the services with a bearer token."""

    def __init__(self, stack: Stack, workspace_id: str, *, admin: bool = False) -> None:
        self.stack, self.workspace_id = stack, workspace_id
        self.headers = {"Authorization": f"Bearer {token(workspace_id, admin=admin)}"}
        self.http = httpx.AsyncClient(timeout=30.0)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = f"{self.stack.urls[service]}{path}"
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def ok(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a call that must succeed (the body is in the failure message)."""
        response = await self.call(service, method, path, **kwargs)
        assert response.is_success, (
            f"{method} {service}{path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def conversations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 200}
        while True:
            page = await self.ok("inbox", "GET", "/conversations", params=params)
            found += page["items"]
            if not page["next_cursor"]:
                return found
            params["cursor"] = page["next_cursor"]

    async def timeline(self, conversation_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 200}
        while True:
            path = f"/conversations/{conversation_id}/messages"
            page = await self.ok("inbox", "GET", path, params=params)
            found = page["items"] + found
            if not page["next_cursor"]:
                return found
            params["cursor"] = page["next_cursor"]

    async def conversation_with(self, channel: Channel, wa_id: str) -> dict[str, Any] | None:
        for row in await self.conversations():
            if row["phone_number_id"] == channel.phone_number_id and (
                row["contact"].get("wa_id") == wa_id
            ):
                return row
        return None


class Simulator:
    """Meta played by the simulator; remembers every inbound wamid it was asked to deliver."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=30.0)
        self.inbound_wamids: list[str] = []

    async def close(self) -> None:
        await self.http.aclose()

    async def customer_writes(
        self, channel: Channel, wa_id: str, texts: list[str], *, name: str, duplicates: int = 0
    ) -> list[str]:
        """One webhook per text (each `duplicates` extra times); the wamids, in order."""
        wamids = []
        for text in texts:
            spec = {
                "phone_number_id": channel.phone_number_id,
                "display_phone_number": channel.display_phone_number,
                "waba_id": channel.waba_id,
                "wa_id": wa_id,
                "name": name,
                "type": "text",
                "content": {"body": text},
                "duplicates": duplicates,
            }
            response = await self.http.post("/_sim/inbound", json=spec)
            response.raise_for_status()
            wamids += response.json()["wamids"]
        self.inbound_wamids += wamids
        return wamids

    async def batch(self, channel: Channel, wa_id: str, count: int, *, name: str) -> list[str]:
        """`count` messages in one webhook body, as Meta batches them."""
        spec = {
            "phone_number_id": channel.phone_number_id,
            "display_phone_number": channel.display_phone_number,
            "waba_id": channel.waba_id,
            "wa_id": wa_id,
            "name": name,
            "content": {"body": f"batch of {count}"},
            "count": count,
        }
        response = await self.http.post("/_sim/inbound", json=spec)
        response.raise_for_status()
        wamids: list[str] = response.json()["wamids"]
        self.inbound_wamids += wamids
        return wamids

    async def sends_to(self, wa_id: str) -> list[dict[str, Any]]:
        """Message sends (not read receipts) the Graph API received for this customer."""
        response = await self.http.get("/_sim/requests", params={"endpoint": "messages"})
        response.raise_for_status()
        return [
            row
            for row in response.json()
            if isinstance(row["body"], dict)
            and row["body"].get("type")
            and str(row["body"].get("to", "")).lstrip("+") == wa_id
        ]

    async def deliveries(self) -> list[dict[str, Any]]:
        response = await self.http.get("/_sim/deliveries")
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows
