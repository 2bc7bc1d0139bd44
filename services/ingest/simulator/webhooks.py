"""Webhook bodies in Meta's shape, signed and delivered to ingest with Meta-like retries."""

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from simulator.state import Sent

logger = logging.getLogger("hanout.simulator.webhooks")
DEFAULT_WABA = "104857361029384"
_ids = itertools.count(1)


def wamid(wa_id: str, business_sent: bool) -> str:
    """An opaque id in Meta's layout: `FQIAERgS` marks business-sent ids, `FQIAEhgU` inbound."""
    marker = "FQIAERgS" if business_sent else "FQIAEhgU"
    head = base64.b64encode(wa_id.encode()).decode().rstrip("=")
    return f"wamid.HBgM{head}{marker}{uuid.uuid4().hex.upper()}A=="


def now_stamp() -> str:
    return str(int(time.time()))


def wire_bytes(payload: Any) -> bytes:
    """Compact, ASCII-only, `/` escaped: the bytes Meta signs and sends."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(
    phone_number_id: str, display: str, waba_id: str, value: dict[str, Any]
) -> dict[str, Any]:
    metadata = {"display_phone_number": display, "phone_number_id": phone_number_id}
    full = {"messaging_product": "whatsapp", "metadata": metadata, **value}
    change = {"value": full, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def contact(wa_id: str | None, user_id: str | None, name: str | None, username: str | None) -> Any:
    profile = {k: v for k, v in {"name": name, "username": username}.items() if v}
    found: dict[str, Any] = {"profile": profile}
    if wa_id:
        found["wa_id"] = wa_id
    if user_id:
        found["user_id"] = user_id
    return found


def status_item(sent: Sent, status: str, stamp: str, error_code: int | None = None) -> Any:
    item: dict[str, Any] = {"id": sent.wamid, "status": status, "timestamp": stamp}
    if sent.wa_id:
        item["recipient_id"] = sent.wa_id
    if sent.user_id:
        item["recipient_user_id"] = sent.user_id
    if sent.callback_data:
        item["biz_opaque_callback_data"] = sent.callback_data
    if status == "sent":
        kind = "regular" if sent.kind == "template" else "free_customer_service"
        category = "utility" if sent.kind == "template" else "service"
        item["pricing"] = {"billable": kind == "regular", "pricing_model": "PMP",
                           "type": kind, "category": category}  # fmt: skip
    if status == "failed" and error_code is not None:
        item["errors"] = [{"code": error_code, "title": "Failed", "message": "Failed",
                           "error_data": {"details": "Injected by the simulator"}}]  # fmt: skip
    return item


@dataclass
class DeliveryRecord:
    id: int
    wamids: list[str]
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    delivered: bool = False
    given_up: bool = False


class Deliverer:
    """POSTs signed bodies; a non-200 answer is retried with growing pauses, as Meta does."""

    def __init__(self, http: httpx.AsyncClient, secret: str, initial_s: float, max_s: float,
                 retry_for_s: float) -> None:  # fmt: skip
        self._http, self._secret = http, secret
        self._initial_s, self._max_s, self._retry_for_s = initial_s, max_s, retry_for_s
        self.url = ""
        self.records: list[DeliveryRecord] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, bodies: list[bytes], wamids: list[str], delay_s: float = 0.0) -> int:
        """Deliver `bodies` one after the other (each retried until it lands), in the background."""
        record = DeliveryRecord(next(_ids), wamids)
        self.records.append(record)
        task = asyncio.create_task(self._run(record, bodies, delay_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record.id

    async def _run(self, record: DeliveryRecord, bodies: list[bytes], delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        for body in bodies:
            if not await self._deliver(record, body):
                record.given_up = True
                return
        record.delivered = True

    async def _deliver(self, record: DeliveryRecord, body: bytes) -> bool:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, self._secret),
        }
        deadline, pause = time.monotonic() + self._retry_for_s, self._initial_s
        while True:
            record.attempts += 1
            try:
                response = await self._http.post(self.url, content=body, headers=headers)
                record.statuses.append(response.status_code)
                if response.status_code == 200:
                    return True
            except httpx.HTTPError as exc:
                record.statuses.append(0)
                logger.info("webhook delivery failed", extra={"error": repr(exc)})
            if time.monotonic() + pause > deadline:
                return False
            await asyncio.sleep(pause * random.uniform(0.8, 1.2))
            pause = min(pause * 2, self._max_s)

    def pending(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
