"""What the routes and the handlers of orders work with: one object, built by app.py."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hanout_shared.platform.outbox import OutboxRelay
from orders.store import Store


@dataclass(frozen=True)
class OrdersDeps:
    store: Store
    relay: OutboxRelay
    first_order_number: int
    customer_wait_s: float = 3.0

    async def publish(self, order_id: str) -> bool:
        """Publish the events a write just left in the order's outbox; False when Kafka did not
        take them in time (the sweep publishes them later)."""
        return await self.relay.publish(self.store.orders.outbox, order_id)

    async def publish_inserted(self, order_id: str, entries: Sequence[dict[str, Any]]) -> bool:
        """Publish a new order's events from memory, as its insert wrote them (no read back)."""
        return await self.relay.publish_inserted(self.store.orders.outbox, order_id, entries)
