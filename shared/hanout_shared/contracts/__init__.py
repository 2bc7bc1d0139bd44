"""Event contracts: the CloudEvents envelope, topic names and one module of events per topic."""

from hanout_shared.contracts.envelope import CloudEvent, UnknownEvent, event_union
from hanout_shared.contracts.ids import deterministic_id, new_event_id

__all__ = ["CloudEvent", "UnknownEvent", "deterministic_id", "event_union", "new_event_id"]
