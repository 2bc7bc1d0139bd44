"""What the routes and the handlers of customers work with: one object, built by app.py, and
what every route shares (the error answers, the clock, a card that was not merged away)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from prometheus_client import Counter

from customers.cards.model import Customer, Invalid
from customers.store import Store
from hanout_shared.platform.auth import Principal
from hanout_shared.platform.errors import ApiError, ErrorBody, not_found
from hanout_shared.platform.outbox import OutboxRelay
from hanout_shared.platform.service import dependencies

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (404, 409, 422)
}


@dataclass(frozen=True)
class CustomersDeps:
    """The store and the outbox relay, the count of events read but not acted on, and the
    import limits routes need."""

    store: Store
    relay: OutboxRelay
    skipped: Counter
    import_max_bytes: int
    import_batch_rows: int
    import_spool_dir: str | None

    async def publish(self, customer_ids: Sequence[str]) -> bool:
        """Publish the events writes just left on these cards; False when Kafka did not take
        them in time (the relay's sweep publishes them later)."""
        return await self.relay.publish(self.store.customers.outbox, customer_ids)

    async def live_customer(self, agent: Principal, customer_id: str) -> Customer:
        """The agent's card, 404 if it has none by that id, 409 `merged` if merged away."""
        customer = await self.store.customers.get(agent.workspace_id, customer_id)
        if customer is None:
            raise not_found("Customer")
        if customer.merged_into:
            message = f"Customer {customer_id} was merged into {customer.merged_into}"
            raise ApiError(409, "merged", message, [{"merged_into": customer.merged_into}])
        return customer


CustomersDep = Annotated[CustomersDeps, Depends(dependencies)]


def now() -> datetime:
    return datetime.now(UTC)


def invalid(exc: Invalid) -> ApiError:
    return ApiError(422, exc.code, exc.message, [{"field": exc.field, "message": exc.message}])
