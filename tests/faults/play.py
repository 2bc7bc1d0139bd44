"""Customers writing through the simulator while an agent replies and takes orders: the stream a
fault test breaks, and what it did, to reconcile afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from tests.e2e.clients import Agent, Pending, Simulator, a_moroccan_mobile, eventually
from tests.e2e.shops import Shop
from tests.e2e.steps import BELGHA, JELLABA, SHIPPING, customer_from, matched

T = TypeVar("T")
CUSTOMERS = 3
ROUNDS = 9
BATCH = 3  # every fourth round one customer sends a batched webhook of this many messages
ORDERS = {1: (0, JELLABA), 4: (1, BELGHA), 6: (2, JELLABA), 7: (0, BELGHA)}  # round: who, what
CANCELS = {5: (0, 0)}  # round: (customer, their n-th order)


@dataclass
class Customer:
    wa_id: str
    name: str
    conversation: dict[str, Any]
    card: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)


def tolerant(check: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T | Pending]]:
    """The check, a call failing on the wire counted as not yet (a service restarting, or slow)."""

    async def checked() -> T | Pending:
        try:
            return await check()
        except httpx.TransportError as exc:
            return Pending(repr(exc))

    return checked


async def until_ok(agent: Agent, service: str, method: str, path: str, **kwargs: Any) -> Any:
    """A call the web client repeats (same body, same idempotency key) while the service is down
    or answers 5xx; any other refusal fails the test."""

    async def attempt() -> Any:
        try:
            response = await agent.call(service, method, path, **kwargs)
        except httpx.TransportError as exc:
            return Pending(repr(exc))
        if response.status_code >= 500:
            return Pending(f"{response.status_code} {response.text[:200]}")
        refused = f"{method} {service}{path}: {response.status_code} {response.text}"
        assert response.is_success, refused
        return response.json()

    return await eventually(attempt, f"{method} {service}{path}")


class Play:
    """One shop's customers and its agent; the agent's work runs in order in the background, each
    step retried until the services take it."""

    def __init__(self, shop: Shop, simulator: Simulator, *, duplicate_every: int = 0) -> None:
        self.shop, self.simulator = shop, simulator
        self.duplicate_every = duplicate_every
        self.customers: list[Customer] = []
        self.inbound: list[str] = []
        self.replies: dict[str, tuple[str, str]] = {}  # inbox message id → (wa_id, text)
        self.writes = 0
        self._jobs: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._agent: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Each customer writes first; the agent creates their cards; the agent starts working."""
        self.customers = list(await asyncio.gather(*(self._newcomer(i) for i in range(CUSTOMERS))))
        self._agent = asyncio.create_task(self._work())

    async def _newcomer(self, index: int) -> Customer:
        wa_id, name = a_moroccan_mobile(), f"Client {index}"
        await self.write(wa_id, name, "Salam, bghit nswl")
        listed = tolerant(lambda: matched(self.shop, wa_id, "unknown"))
        conversation = await eventually(listed, f"{wa_id} listed as unknown")
        card = await customer_from(self.shop, conversation, wa_id)
        return Customer(wa_id, name, conversation, card)

    async def write(self, wa_id: str, name: str, text: str) -> None:
        twice = bool(self.duplicate_every) and self.writes % self.duplicate_every == 0
        self.writes += 1
        self.inbound += await self.simulator.customer_writes(
            self.shop.channel, wa_id, [text], name=name, duplicates=int(twice)
        )

    async def round(self, number: int) -> None:
        """Every customer writes once; the agent is given this round's reply and order work."""
        for index, customer in enumerate(self.customers):
            await self.write(customer.wa_id, customer.name, f"Round {number}, client {index}")
        if number % 4 == 3:
            customer = self.customers[number % CUSTOMERS]
            self.inbound += await self.simulator.batch(
                self.shop.channel, customer.wa_id, BATCH, name=customer.name
            )
        target = self.customers[number % CUSTOMERS]
        self._jobs.put_nowait(lambda: self._reply(target, f"Reply {number}: merci!"))
        if number in ORDERS:
            who, line = ORDERS[number]
            self._jobs.put_nowait(lambda: self._order(self.customers[who], line))
        if number in CANCELS:
            who, nth = CANCELS[number]
            self._jobs.put_nowait(lambda: self._cancel(self.customers[who], nth))

    async def settle(self) -> None:
        """Wait for the agent to finish the work it was given."""
        self._jobs.put_nowait(None)
        if self._agent is not None:
            await self._agent

    async def _work(self) -> None:
        while (job := await self._jobs.get()) is not None:
            await job()

    async def _reply(self, customer: Customer, text: str) -> None:
        path = f"/conversations/{customer.conversation['id']}/messages"
        click = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"content": {"kind": "text", "body": text}}
        sent = await until_ok(self.shop.agent, "inbox", "POST", path, json=body, headers=click)
        self.replies[sent["id"]] = (customer.wa_id, text)

    async def _order(self, customer: Customer, line: dict[str, Any]) -> None:
        draft = {
            "customer_id": customer.card["customer_id"],
            "conversation_key": customer.conversation["conversation_key"],
            "phone_number_id": self.shop.channel.phone_number_id,
            "lines": [line],
            "shipping_fee": SHIPPING,
            "shipping_city": "Casablanca",
        }
        key = {"Idempotency-Key": uuid.uuid4().hex}
        agent = self.shop.agent
        order = await until_ok(agent, "orders", "POST", "/orders", json=draft, headers=key)
        customer.orders.append(order)

    async def _cancel(self, customer: Customer, nth: int) -> None:
        order = customer.orders[nth]
        path = f"/orders/{order['id']}/cancel"
        seen, reason = {"If-Match": f'"{order["version"]}"'}, {"reason": "Injoignable"}
        agent = self.shop.agent
        try:
            await until_ok(agent, "orders", "POST", path, json=reason, headers=seen)
        except AssertionError:  # a retry after the first try took effect: 412, already cancelled
            now = await until_ok(agent, "orders", "GET", f"/orders/{order['id']}")
            assert now["stage"]["state"] == "cancelled", now
        customer.cancelled.add(order["id"])


async def stream(
    play: Play, fault: Callable[[], Awaitable[Any]], repair: Callable[[], Awaitable[Any]]
) -> None:
    """The rounds: the fault strikes after the first third, the repair after the second."""
    for number in range(ROUNDS):
        if number == ROUNDS // 3:
            await fault()
        if number == 2 * ROUNDS // 3:
            await repair()
        await play.round(number)
