"""A dict-backed stand-in for the orders store, with the same collections and method names."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hanout_shared.contracts import topics
from hanout_shared.platform.outbox import outbox_entries
from orders.model import Change, Order, OrderDetail, Pipeline


class FakeOutbox:
    """The platform's `Outbox` over the fake orders' rows (`row["outbox"]`)."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self._rows, self.name = rows, "orders"
        self.leases: dict[str, datetime] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def pending(self, doc_id: str) -> list[dict[str, Any]]:
        return list(self._rows[doc_id]["outbox"]) if doc_id in self._rows else []

    async def clear(self, doc_id: str, entries: Sequence[dict[str, Any]]) -> None:
        row = self._rows[doc_id]
        row["outbox"] = [entry for entry in row["outbox"] if entry not in entries]

    async def stale(self, older_than: datetime, limit: int) -> list[str]:
        found = [
            doc_id
            for doc_id, row in self._rows.items()
            if any(entry["at"] < older_than for entry in row["outbox"])
        ]
        return found[:limit]

    async def claim(self, doc_id: str, until: datetime) -> bool:
        held = self.leases.get(doc_id)
        if held is not None and held > datetime.now(until.tzinfo):
            return False
        self.leases[doc_id] = until
        return True

    async def backlog(self) -> tuple[int, datetime | None]:
        times = [entry["at"] for row in self._rows.values() for entry in row["outbox"]]
        return len(times), min(times, default=None)


class FakeOrders:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.outbox = FakeOutbox(self.rows)

    async def ensure_indexes(self) -> None:
        return None

    async def insert(
        self, change: Change, idempotency_key: str | None, request_hash: str
    ) -> list[dict[str, Any]] | None:
        order = change.order
        if idempotency_key and await self.by_idempotency_key(order.workspace_id, idempotency_key):
            return None
        if any(
            r["order"].workspace_id == order.workspace_id and r["order"].number == order.number
            for r in self.rows.values()
        ):
            raise ValueError(f"duplicate number {order.number}")
        self.rows[order.id] = {
            "order": order,
            "history": [change.entry],
            "outbox": outbox_entries(topics.ORDERS_EVENTS, change.events),
            "key": idempotency_key,
            "hash": request_hash,
        }
        return list(self.rows[order.id]["outbox"])

    async def by_idempotency_key(self, workspace_id: str, key: str) -> tuple[Order, str] | None:
        for row in self.rows.values():
            if row["order"].workspace_id == workspace_id and row["key"] == key:
                return row["order"], row["hash"]
        return None

    async def apply(self, change: Change, expected_version: int) -> bool:
        row = self.rows.get(change.order.id)
        if row is None or row["order"].version != expected_version:
            return False
        row["order"] = change.order
        row["history"].append(change.entry)
        row["outbox"].extend(outbox_entries(topics.ORDERS_EVENTS, change.events))
        return True

    def _mine(self, workspace_id: str) -> list[dict[str, Any]]:
        return [row for row in self.rows.values() if row["order"].workspace_id == workspace_id]

    async def get(self, workspace_id: str, order_id: str) -> Order | None:
        row = self.rows.get(order_id)
        return row["order"] if row and row["order"].workspace_id == workspace_id else None

    async def detail(self, workspace_id: str, order_id: str) -> OrderDetail | None:
        row = self.rows.get(order_id)
        if row is None or row["order"].workspace_id != workspace_id:
            return None
        return OrderDetail(**row["order"].model_dump(), history=row["history"])

    async def detail_by_number(self, workspace_id: str, number: int) -> OrderDetail | None:
        for row in self._mine(workspace_id):
            if row["order"].number == number:
                return await self.detail(workspace_id, row["order"].id)
        return None

    async def newest_first(
        self, workspace_id: str, filters: dict[str, str], before: int | None, limit: int
    ) -> list[Order]:
        def matches(order: Order) -> bool:
            values = order.model_dump(mode="json")
            values |= {"stage.id": order.stage.id, "stage.state": order.stage.state}
            return all(values.get(field) == value for field, value in filters.items())

        rows = [row["order"] for row in self._mine(workspace_id) if matches(row["order"])]
        rows = [order for order in rows if before is None or order.number < before]
        return sorted(rows, key=lambda order: order.number, reverse=True)[:limit]

    async def ids_of_customers(self, workspace_id: str, customer_ids: list[str]) -> list[str]:
        mine = self._mine(workspace_id)
        return [row["order"].id for row in mine if row["order"].customer_id in customer_ids]

    async def stages_in_use(self, workspace_id: str, stage_ids: list[str]) -> list[str]:
        used = {row["order"].stage.id for row in self._mine(workspace_id)}
        return sorted(used & set(stage_ids))


class FakePipelines:
    def __init__(self) -> None:
        self.rows: dict[str, Pipeline] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def get(self, workspace_id: str) -> Pipeline | None:
        return self.rows.get(workspace_id)

    async def save(self, pipeline: Pipeline, expected_version: int) -> bool:
        current = self.rows.get(pipeline.workspace_id)
        if (current.version if current else 0) != expected_version:
            return False
        self.rows[pipeline.workspace_id] = pipeline
        return True


class FakeCounters:
    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def next_number(self, workspace_id: str, first: int) -> int:
        self.seqs[workspace_id] = self.seqs.get(workspace_id, 0) + 1
        return first + self.seqs[workspace_id] - 1


class FakeMerges:
    def __init__(self) -> None:
        self.survivors: dict[tuple[str, str], str] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def record(self, workspace_id: str, survivor_id: str, absorbed_ids: list[str]) -> None:
        for key, survivor in list(self.survivors.items()):
            if key[0] == workspace_id and survivor in absorbed_ids:
                self.survivors[key] = survivor_id
        for absorbed in absorbed_ids:
            self.survivors[(workspace_id, absorbed)] = survivor_id

    async def survivor_of(self, workspace_id: str, customer_id: str) -> str | None:
        return self.survivors.get((workspace_id, customer_id))


class FakeCustomers:
    def __init__(self) -> None:
        self.known_ids: set[tuple[str, str]] = set()

    async def ensure_indexes(self) -> None:
        return None

    async def remember(self, workspace_id: str, customer_id: str) -> None:
        self.known_ids.add((workspace_id, customer_id))

    async def known(self, workspace_id: str, customer_id: str) -> bool:
        return (workspace_id, customer_id) in self.known_ids


class FakeStore:
    def __init__(self) -> None:
        self.orders = FakeOrders()
        self.pipelines = FakePipelines()
        self.counters = FakeCounters()
        self.merges = FakeMerges()
        self.customers = FakeCustomers()

    async def ensure_indexes(self) -> None:
        return None
