"""Event ids: deterministic where the cause has an id, random otherwise."""

import uuid

# Fixed namespace: changing it would change every derived id and break redelivery dedup.
HANOUT_NAMESPACE = uuid.UUID("6f1c3f0e-9a4b-5d2e-8c71-2b0d4e6a9f13")


def deterministic_id(*parts: str | int) -> str:
    """UUIDv5 of the cause's identifying parts, so a redelivered cause yields the same id."""
    if not parts:
        raise ValueError("deterministic_id needs at least one part")
    name = "\x1f".join(str(part) for part in parts)
    return str(uuid.uuid5(HANOUT_NAMESPACE, name))


def new_event_id() -> str:
    return str(uuid.uuid4())
