"""`python -m devtools.seed`: a living demo inbox through the gateway's APIs and the Meta simulator.

Two business numbers, a few dozen customers and conversations in French, Darija and Arabic, agent
replies, orders in every stage and a content library. Idempotent: a registered number answers
409, customers are looked up before they are created, customer messages carry fixed wamids, sends
and orders carry fixed idempotency keys, and a library file is one item however often uploaded.
A route that does not exist yet, or a service that does not answer, is reported and skipped, so
the seed works at every stage of the backend. It ends once the inbox shows every conversation's
last customer message, so what it wrote can be seen when it exits.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from devtools import seed_data as data
from devtools.seed_data import Contact, Roster, WorkspaceSpec, contacts, demo_roster
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

log = logging.getLogger("devtools.seed")
DEV_META_APP = "hanout-dev-app"  # ingest's development Meta app (INGEST_META_APPS default)


class Missing(Exception):
    """The backend has no such route yet (404 Not Found / 405) or the service is down."""


@dataclass
class Report:
    done: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def count(self, step: str, n: int = 1) -> None:
        self.done[step] = self.done.get(step, 0) + n


class Api:
    """The gateway's `/api/...` routes with one agent's token; errors become exceptions."""

    def __init__(self, client: httpx.Client, gateway: str, token: str) -> None:
        self.client, self.gateway = client, gateway.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, ok: tuple[int, ...] = (), **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        try:
            response = self.client.request(method, f"{self.gateway}{path}", headers=headers, **kw)
        except httpx.TransportError as exc:
            raise Missing(f"{path}: not reachable ({type(exc).__name__})") from exc
        body = _body(response)
        missing = response.status_code == 405 or body.get("message") == "Not Found"
        if response.status_code in (404, 405, 502) and missing or response.status_code == 502:
            raise Missing(f"{method} {path}: {response.status_code}")
        if response.status_code >= 400 and response.status_code not in ok:
            message = body.get("message", response.text[:200])
            raise RuntimeError(f"{method} {path}: {response.status_code} {message}")
        return body


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"items": body}


def wamid(contact: Contact, index: int) -> str:
    digest = hashlib.sha256(f"{contact.number.phone_number_id}:{contact.wa_id}:{index}".encode())
    return f"wamid.SEED{digest.hexdigest()[:32].upper()}"


class Seeder:
    def __init__(self, client: httpx.Client, gateway: str, simulator: str | None,
                 workspace: WorkspaceSpec, secret: str = DEV_JWT_SECRET) -> None:  # fmt: skip
        self.client, self.simulator, self.workspace = client, simulator, workspace
        self.report = Report()
        self.apis = {
            agent.agent_id: Api(client, gateway, mint_dev_token(
                secret, agent_id=agent.agent_id, workspace_id=workspace.workspace_id,
                name=agent.name, roles=agent.roles))
            for agent in workspace.agents
        }  # fmt: skip
        admins = [a for a in workspace.agents if "admin" in a.roles] or workspace.agents
        self.admin = self.apis[admins[0].agent_id]
        self.customer_ids: dict[str, str] = {}

    def agent_api(self, index: int) -> Api:
        return list(self.apis.values())[index % len(self.apis)]

    def step(self, name: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            action()
        except Missing as exc:
            self.report.skipped[name] = str(exc)
            log.warning("seed: %s skipped: %s", name, exc)
        log.info("seed: %s took %.1f s", name, time.monotonic() - started)

    def run(self, people: list[Contact]) -> Report:
        self.step("channels", self.channels)
        self.step("templates", self.templates)
        self.step("library", self.library)
        self.step("customers", lambda: self.customers(people))
        self.step("messages", lambda: self.messages(people))
        self.step("replies", lambda: self.replies(people))
        self.step("orders", lambda: self.orders(people))
        self.step("shown", lambda: self.shown(people))
        return self.report

    def channels(self) -> None:
        for number in self.workspace.numbers:
            body = {**number.model_dump(), "meta_app_id": DEV_META_APP,
                    "access_token": f"seed-token-{number.phone_number_id}"}  # fmt: skip
            self.admin.call("POST", "/api/ingest/channels", ok=(409,), json=body)
            self.report.count("channels")

    def templates(self) -> None:
        for number in self.workspace.numbers:
            self.sim("PUT", f"/_sim/templates/{number.waba_id}", data.templates())
            path = f"/api/ingest/channels/{number.phone_number_id}/templates/sync"
            self.admin.call("POST", path)
            self.report.count("templates")

    def library(self) -> None:
        """The files agents send from the composer; the same bytes are one item (200 again)."""
        for name, filename, mime, content in data.LIBRARY:
            params = {"filename": filename, "name": name}
            headers = {"Content-Type": mime}
            self.admin.call("POST", "/api/inbox/library", params=params, content=content,
                            headers=headers)  # fmt: skip
            self.report.count("library")

    def sim(self, method: str, path: str, body: Any) -> Any:
        if self.simulator is None:
            raise Missing("no Meta simulator")
        try:
            response = self.client.request(method, f"{self.simulator}{path}", json=body)
        except httpx.TransportError as exc:
            raise Missing(f"simulator not reachable ({type(exc).__name__})") from exc
        response.raise_for_status()
        return response.json()

    def customers(self, people: list[Contact]) -> None:
        for person in (p for p in people if p.has_card):
            found = self.admin.call("GET", "/api/customers/customers/lookup",
                                    params={"wa_id": person.wa_id})  # fmt: skip
            ids = [c["customer_id"] for c in found.get("candidates", [])]
            if found.get("customer"):
                ids = [found["customer"]["customer_id"]]
            wanted = 2 if person.index == 0 else 1  # one number shared by two cards: a merge offer
            for copy in range(len(ids), wanted):
                ids.append(self.create_customer(person, copy)["customer_id"])
            self.customer_ids[person.wa_id] = ids[0]
            self.report.count("customers")

    def create_customer(self, person: Contact, copy: int) -> Any:
        i = person.index
        body = {"name": person.name if copy == 0 else person.name.split()[0],
                "phones": [person.phone_as_typed()], "city": person.city,
                "address": person.address, "tags": data.TAGS[i % len(data.TAGS)],
                "status": data.STATUSES[i % len(data.STATUSES)]}  # fmt: skip
        return self.admin.call("POST", "/api/customers/customers", json=body)

    def messages(self, people: list[Contact]) -> None:
        now = int(time.time())
        for person in people:
            count = len(person.script)
            for j, text in enumerate(person.script):
                at = now - 60 * person.minutes_ago - 180 * (count - 1 - j)
                item = {"from": person.wa_id, "id": wamid(person, j), "timestamp": str(at),
                        "type": "text", "text": {"body": text}}  # fmt: skip
                self.sim("POST", "/_sim/inbound", {
                    **person.number.model_dump(include={"phone_number_id",
                                                        "display_phone_number", "waba_id"}),
                    "wa_id": person.wa_id, "name": person.name, "message": item,
                })  # fmt: skip
                self.report.count("messages")

    def listed(self, person: Contact) -> dict[str, Any] | None:
        page = self.admin.call("GET", "/api/inbox/conversations", params={
            "q": person.wa_id, "phone_number_id": person.number.phone_number_id})  # fmt: skip
        found: dict[str, Any] | None = (page.get("items") or [None])[0]
        return found

    def conversation_of(self, person: Contact, timeout: float = 30.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.listed(person):
                return found
            time.sleep(0.5)
        return None

    def shows_last_message(self, person: Contact) -> bool:
        conversation = self.listed(person)
        if conversation is None:
            return False
        path = f"/api/inbox/conversations/{conversation['id']}/messages"
        last = wamid(person, len(person.script) - 1)
        return any(item.get("wamid") == last for item in self.admin.call("GET", path)["items"])

    def shown(self, people: list[Contact], timeout: float = 60.0) -> None:
        """Wait until every conversation shows its customer's last message: the simulator answers
        before a message has gone through ingest and the broker to the inbox."""
        deadline = time.monotonic() + timeout
        waiting = list(people)
        while waiting := [person for person in waiting if not self.shows_last_message(person)]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} conversations not shown after {timeout:.0f} s")
            time.sleep(0.5)
        self.report.count("shown", len(people))

    def replies(self, people: list[Contact]) -> None:
        for person in (p for p in people if p.window_open and p.index % 3 == 0):
            conversation = self.conversation_of(person)
            if conversation is None:
                log.warning("seed: no conversation for %s yet", person.wa_id)
                continue
            reply = data.REPLIES[person.index % len(data.REPLIES)]
            body = {"content": {"kind": "text", "body": reply}}
            key = {"Idempotency-Key": f"seed-reply-{conversation['id']}"}
            path = f"/api/inbox/conversations/{conversation['id']}/messages"
            self.agent_api(person.index).call("POST", path, json=body, headers=key)
            self.report.count("replies")

    def orders(self, people: list[Contact]) -> None:
        for person in people:
            customer_id = self.customer_ids.get(person.wa_id)
            if customer_id is None or person.index % 4 == 3 or person.index == 0:
                continue
            for k in range(1 + person.index % 3):
                self.order(person, customer_id, k)

    def order(self, person: Contact, customer_id: str, k: int) -> None:
        i, api = person.index, self.agent_api(person.index + k)
        name, price = data.PRODUCTS[(i + 3 * k) % len(data.PRODUCTS)]
        key = f"{self.workspace.workspace_id}:{person.number.phone_number_id}:{person.wa_id}"
        body = {"customer_id": customer_id, "conversation_key": key,
                "phone_number_id": person.number.phone_number_id,
                "lines": [{"name": name, "quantity": 1 + (i + k) % 2, "unit_price": str(price)}],
                "shipping_fee": "30.00", "shipping_city": person.city,
                "shipping_address": person.address}  # fmt: skip
        headers = {"Idempotency-Key": f"seed-order-{customer_id}-{k}"}
        order = api.call("POST", "/api/orders/orders", json=body, headers=headers)
        stage = data.STAGES[(i + 2 * k) % len(data.STAGES)]
        if order["stage"]["id"] != stage and order["version"] == 1:
            move = {"stage_id": stage, "expected_version": order["version"]}
            api.call("POST", f"/api/orders/orders/{order['id']}/stage", ok=(409, 422), json=move)
        self.report.count("orders")


def seed(gateway: str, simulator: str | None, roster: Roster | None = None,
         count: int | None = None) -> list[Report]:  # fmt: skip
    reports = []
    with httpx.Client(timeout=30) as client:
        for workspace in (roster or demo_roster()).workspaces:
            people = contacts(workspace, count) if count else contacts(workspace)
            reports.append(Seeder(client, gateway, simulator, workspace).run(people))
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--simulator", default="http://127.0.0.1:8090")
    parser.add_argument("--count", type=int, help="conversations per workspace (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for report in seed(args.gateway, args.simulator or None, count=args.count):
        log.info("seeded: %s; skipped: %s", report.done, report.skipped or "nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
