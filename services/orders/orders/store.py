"""The orders service's MongoDB collections (the only module that imports pymongo)."""

import contextlib
import json
from decimal import Decimal
from typing import Any

from bson.codec_options import CodecOptions
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from hanout_shared.contracts import topics
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.platform.outbox import Outbox, outbox_entries
from hanout_shared.platform.trips import Trips
from orders.model import Change, Order, OrderDetail, Pipeline

Document = dict[str, Any]
_NOT_SHOWN = {"outbox": 0, "outbox_lease": 0, "idempotency": 0, "request_hash": 0}
_NOT_LISTED = _NOT_SHOWN | {"history": 0}
# No Decimal codec: a Decimal reaching pymongo is refused, so money is never stored as a float.
CODEC: CodecOptions[Document] = CodecOptions(document_class=dict, tz_aware=True)
_ORDER_MONEY = ("shipping_fee", "total")
_LINE_MONEY = ("unit_price", "total")


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, connect=False)


def centimes(amount: Decimal) -> int:
    """MAD as exact integer centimes: FerretDB v1 has no Decimal128, and an int64 is exact."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} MAD is not a whole number of centimes")
    return int(scaled)


def mad(count: int) -> Decimal:
    return Decimal(count).scaleb(-2)


def _to_centimes(values: Document, fields: tuple[str, ...]) -> Document:
    kept = {key: value for key, value in values.items() if key not in fields}
    return kept | {f"{field}_centimes": centimes(values[field]) for field in fields}


def _from_centimes(doc: Document, fields: tuple[str, ...]) -> Document:
    stored = {f"{field}_centimes" for field in fields}
    kept = {key: value for key, value in doc.items() if key not in stored}
    return kept | {field: mad(doc[f"{field}_centimes"]) for field in fields}


def _stored(order: Order) -> Document:
    """An order as stored: the model's fields with money in centimes, keyed by its id."""
    doc = _to_centimes(order.model_dump(exclude={"id"}), _ORDER_MONEY)
    doc["lines"] = [_to_centimes(line, _LINE_MONEY) for line in doc["lines"]]
    return doc


def _fields(doc: Document) -> Document:
    fields = _from_centimes(doc, _ORDER_MONEY) | {"id": doc["_id"]}
    fields["lines"] = [_from_centimes(line, _LINE_MONEY) for line in doc["lines"]]
    return fields


def _order(doc: Document) -> Order:
    return Order.model_validate(_fields(doc))


def _scoped(workspace_id: str, key: str) -> str:
    """A key with its workspace in one field, unambiguous whatever characters both hold."""
    return json.dumps([workspace_id, key])


def _outbox_entries(events: list[CloudEvent]) -> list[Document]:
    return outbox_entries(topics.ORDERS_EVENTS, events)


def _refusal(error: Document) -> OperationFailure:
    kind = DuplicateKeyError if error.get("code") == 11000 else OperationFailure
    return kind(error.get("errmsg", "write refused"), error.get("code"), error)


class OrderStore:
    """Orders, each carrying its history and an outbox of events not yet published (`outbox`,
    read and emptied by the platform's relay)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._orders = db["orders"]
        self.outbox = Outbox(self._orders)
        self._inserts: Trips[None, Document, OperationFailure | None] = Trips(self._insert_many)

    async def ensure_indexes(self) -> None:
        ws = ("workspace_id", ASCENDING)
        await self._orders.create_index([ws, ("number", ASCENDING)], unique=True)
        # Set only on orders created with a key; no partial index (FerretDB v1 has none). Sparse
        # so MongoDB skips the orders without one (FerretDB never indexes a missing field).
        await self._orders.create_index([("idempotency", ASCENDING)], unique=True, sparse=True)
        for field in ("customer_id", "stage.id", "stage.state", "conversation_key"):
            await self._orders.create_index([ws, (field, ASCENDING), ("number", DESCENDING)])
        await self.outbox.ensure_indexes()

    async def insert(
        self, change: Change, idempotency_key: str | None, request_hash: str
    ) -> list[Document] | None:
        """Store a new order with its events in one write; the outbox entries written (for the
        relay to publish without reading them back), None if its idempotency key is taken."""
        entries = _outbox_entries(change.events)
        doc = _stored(change.order) | {"_id": change.order.id, "request_hash": request_hash}
        doc |= {"history": [change.entry.model_dump()], "outbox": entries}
        if idempotency_key is not None:
            doc["idempotency"] = _scoped(change.order.workspace_id, idempotency_key)
        if isinstance(refused := await self._inserts.run(None, doc), DuplicateKeyError):
            if await self.by_idempotency_key(change.order.workspace_id, idempotency_key or ""):
                return None
        if refused is not None:
            raise refused
        return entries

    async def _insert_many(self, _: None, docs: list[Document]) -> list[OperationFailure | None]:
        """Orders created together, in one unordered write: each refused alone, by its index."""
        try:
            await self._orders.insert_many(docs, ordered=False)
        except BulkWriteError as failed:
            if failed.details.get("writeConcernErrors"):
                raise  # nothing is known to be durable: every caller fails, as insert_one would
            refused = {error["index"]: error for error in failed.details["writeErrors"]}
            return [
                _refusal(refused[index]) if index in refused else None for index in range(len(docs))
            ]
        return [None] * len(docs)

    async def by_idempotency_key(self, workspace_id: str, key: str) -> tuple[Order, str] | None:
        """The order a key created and the hash of the request that created it."""
        query = {"idempotency": _scoped(workspace_id, key), "workspace_id": workspace_id}
        doc = await self._orders.find_one(query, {"history": 0, "outbox": 0, "outbox_lease": 0})
        return (_order(doc), doc["request_hash"]) if doc else None

    async def apply(self, change: Change, expected_version: int) -> bool:
        """Write a change unless someone else changed the order first (then False)."""
        order = change.order
        query = {"_id": order.id, "workspace_id": order.workspace_id, "version": expected_version}
        pushes = {
            "history": change.entry.model_dump(),
            "outbox": {"$each": _outbox_entries(change.events)},
        }
        update = {"$set": _stored(order), "$push": pushes}
        result = await self._orders.update_one(query, update)
        return result.modified_count == 1

    async def get(self, workspace_id: str, order_id: str) -> Order | None:
        doc = await self._orders.find_one(
            {"_id": order_id, "workspace_id": workspace_id}, _NOT_LISTED
        )
        return _order(doc) if doc else None

    async def detail(self, workspace_id: str, order_id: str) -> OrderDetail | None:
        return await self._detail({"_id": order_id, "workspace_id": workspace_id})

    async def detail_by_number(self, workspace_id: str, number: int) -> OrderDetail | None:
        return await self._detail({"workspace_id": workspace_id, "number": number})

    async def _detail(self, query: Document) -> OrderDetail | None:
        doc = await self._orders.find_one(query, _NOT_SHOWN)
        return OrderDetail.model_validate(_fields(doc)) if doc else None

    async def newest_first(
        self, workspace_id: str, filters: dict[str, str], before: int | None, limit: int
    ) -> list[Order]:
        """A page of orders, most recent first; `filters` are field → value (e.g. stage.id)."""
        query: Document = {"workspace_id": workspace_id, **filters}
        if before is not None:
            query["number"] = {"$lt": before}
        cursor = self._orders.find(query, _NOT_LISTED).sort("number", DESCENDING).limit(limit)
        return [_order(doc) async for doc in cursor]

    async def ids_of_customers(self, workspace_id: str, customer_ids: list[str]) -> list[str]:
        query = {"workspace_id": workspace_id, "customer_id": {"$in": customer_ids}}
        return [doc["_id"] async for doc in self._orders.find(query, {"_id": 1})]

    async def stages_in_use(self, workspace_id: str, stage_ids: list[str]) -> list[str]:
        query = {"workspace_id": workspace_id, "stage.id": {"$in": stage_ids}}
        return sorted(await self._orders.distinct("stage.id", query))


class PipelineStore:
    """One customised pipeline per workspace; a workspace without one uses the default."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._pipelines = db["pipelines"]
        self._reads: Trips[str, None, Pipeline | None] = Trips(self._read)

    async def ensure_indexes(self) -> None:
        return None  # keyed by workspace id (_id): nothing else is queried

    async def get(self, workspace_id: str) -> Pipeline | None:
        """Concurrent requests of one workspace share a read (every create needs one)."""
        return await self._reads.run(workspace_id, None)

    async def _read(self, workspace_id: str, callers: list[None]) -> list[Pipeline | None]:
        doc = await self._pipelines.find_one({"_id": workspace_id})
        found = Pipeline.model_validate({**doc, "workspace_id": doc["_id"]}) if doc else None
        return [found] * len(callers)

    async def save(self, pipeline: Pipeline, expected_version: int) -> bool:
        """Store the pipeline unless another admin saved one first (then False)."""
        doc = pipeline.model_dump(exclude={"workspace_id"})
        if expected_version == 0:
            try:
                await self._pipelines.insert_one({"_id": pipeline.workspace_id, **doc})
            except DuplicateKeyError:
                return False
            return True
        query = {"_id": pipeline.workspace_id, "version": expected_version}
        result = await self._pipelines.update_one(query, {"$set": doc})
        return result.modified_count == 1


class CounterStore:
    """Per-workspace order number sequences."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._counters = db["counters"]
        self._allocations: Trips[str, int, int] = Trips(self._allocate)

    async def ensure_indexes(self) -> None:
        return None  # keyed by workspace id (_id)

    async def next_number(self, workspace_id: str, first: int) -> int:
        """The next order number: atomic increments, so no two orders ever share one. Creates
        of one workspace in flight together take their numbers in one increment, in the order
        they asked; a number is lost only when its create fails after taking it."""
        return await self._allocations.run(workspace_id, first)

    async def _allocate(self, workspace_id: str, firsts: list[int]) -> list[int]:
        last = await self._increment(workspace_id, len(firsts))
        start = last - len(firsts)
        return [first + start + index for index, first in enumerate(firsts)]

    async def _increment(self, workspace_id: str, count: int) -> int:
        """The counter after adding `count`."""
        for _ in range(3):
            doc = await self._counters.find_one_and_update(
                {"_id": workspace_id},
                {"$inc": {"seq": count}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return int(doc["seq"])
            # Created apart from the increment: an upserting find_one_and_update racing for a new
            # counter can answer no document after incrementing, which would skip a number.
            with contextlib.suppress(DuplicateKeyError):  # a concurrent first order made it
                await self._counters.update_one(
                    {"_id": workspace_id}, {"$setOnInsert": {"seq": 0}}, upsert=True
                )
        raise RuntimeError(f"could not allocate an order number for {workspace_id}")


class MergeStore:
    """Which customer an absorbed customer id now resolves to (for orders created late)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._aliases = db["customer_aliases"]
        self._lookups: Trips[str, str, str | None] = Trips(self._survivors)

    async def ensure_indexes(self) -> None:
        await self._aliases.create_index([("workspace_id", ASCENDING), ("survivor_id", ASCENDING)])

    async def record(self, workspace_id: str, survivor_id: str, absorbed_ids: list[str]) -> None:
        await self._aliases.update_many(
            {"workspace_id": workspace_id, "survivor_id": {"$in": absorbed_ids}},
            {"$set": {"survivor_id": survivor_id}},
        )
        for absorbed in absorbed_ids:
            await self._aliases.update_one(
                {"_id": f"{workspace_id}:{absorbed}"},
                {"$set": {"workspace_id": workspace_id, "survivor_id": survivor_id}},
                upsert=True,
            )

    async def survivor_of(self, workspace_id: str, customer_id: str) -> str | None:
        """Concurrent lookups of one workspace share a read (every create makes one)."""
        return await self._lookups.run(workspace_id, customer_id)

    async def _survivors(self, workspace_id: str, customer_ids: list[str]) -> list[str | None]:
        keys = {f"{workspace_id}:{customer_id}": customer_id for customer_id in customer_ids}
        query = {"_id": {"$in": list(keys)}}
        found = {
            keys[doc["_id"]]: str(doc["survivor_id"]) async for doc in self._aliases.find(query)
        }
        return [found.get(customer_id) for customer_id in customer_ids]


class CustomerStore:
    """The customers an order may name: the service's own read model of customers.events.v1
    (created, updated, merged survivors), keyed by workspace and customer."""

    # A customer once known stays known (no event removes one), so a hit is remembered here and
    # a create for a customer seen before costs no store read; emptied when full.
    _CACHE_SIZE = 100_000

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._customers = db["customers"]
        self._seen: set[str] = set()

    async def ensure_indexes(self) -> None:
        return None  # keyed by workspace and customer id (_id): nothing else is queried

    async def remember(self, workspace_id: str, customer_id: str) -> None:
        """Idempotent: a redelivered event finds the customer known already."""
        key = _scoped(workspace_id, customer_id)
        fields = {"workspace_id": workspace_id, "customer_id": customer_id}
        with contextlib.suppress(DuplicateKeyError):  # a concurrent upsert inserted it first
            await self._customers.update_one({"_id": key}, {"$setOnInsert": fields}, upsert=True)

    async def known(self, workspace_id: str, customer_id: str) -> bool:
        key = _scoped(workspace_id, customer_id)
        if key in self._seen:
            return True
        if await self._customers.find_one({"_id": key}, {"_id": 1}) is None:
            return False
        if len(self._seen) >= self._CACHE_SIZE:
            self._seen.clear()
        self._seen.add(key)
        return True


class Store:
    """Every collection of the service, on one database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        db = db.with_options(codec_options=CODEC)
        self.orders = OrderStore(db)
        self.pipelines = PipelineStore(db)
        self.counters = CounterStore(db)
        self.merges = MergeStore(db)
        self.customers = CustomerStore(db)

    async def ensure_indexes(self) -> None:
        every = (self.orders, self.pipelines, self.counters, self.merges, self.customers)
        for collection in every:
            await collection.ensure_indexes()
