"""A customer's message posted straight to ingest, signed as Meta signs it, to read ingest's answer
(the simulator's deliverer only records it)."""

from __future__ import annotations

import httpx
from simulator.webhooks import contact, envelope, now_stamp, sign, wamid, wire_bytes

from tests.e2e.stack import Stack

from .play import Customer, Play


class Probe:
    """One webhook body, posted again and again as Meta retries it: its wamid must land once."""

    def __init__(self, stack: Stack, play: Play, customer: Customer, text: str) -> None:
        self.url = f"{stack.urls['ingest']}/webhooks/whatsapp"
        self.http = play.shop.agent.http
        channel, self.wamid = play.shop.channel, wamid(customer.wa_id, False)
        item = {"from": customer.wa_id, "id": self.wamid, "timestamp": now_stamp(),
                "type": "text", "text": {"body": text}}  # fmt: skip
        value = {"contacts": [contact(customer.wa_id, None, customer.name, None)],
                 "messages": [item]}  # fmt: skip
        number, display = channel.phone_number_id, channel.display_phone_number
        self.body = wire_bytes(envelope(number, display, channel.waba_id, value))
        self.headers = {"Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(self.body, stack.app_secret)}  # fmt: skip
        play.inbound.append(self.wamid)

    async def post(self) -> int:
        """Ingest's answer (0: no answer at all)."""
        try:
            response = await self.http.post(self.url, content=self.body, headers=self.headers)
        except httpx.TransportError:
            return 0
        return response.status_code
