"""Duplicates and merges, pure: which cards form a group, and what a merge makes of them."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from customers.cards.model import Customer, Frozen, unite
from customers.matching.model import key_of


class MergeRecord(Frozen):
    merge_id: str
    survivor_id: str
    absorbed_ids: list[str]
    merged_by: str
    merged_by_name: str | None = None
    merged_at: datetime


def merge(survivor: Customer, absorbed: Sequence[Customer], actor: str, now: datetime) -> Customer:
    """Survivor's values win; its empty fields are filled from the absorbed, in the given order."""
    merged = survivor
    for other in absorbed:
        filled = {
            f: getattr(other, f)
            for f in ("name", "city", "address", "status")
            if not getattr(merged, f)
        }
        merged = merged.model_copy(
            update={
                **filled,
                "phones": unite(merged.phones, other.phones, lambda p: p.e164),
                "identities": unite(merged.identities, other.identities, key_of),
                "tags": unite(merged.tags, other.tags),
                "merged_ids": unite(merged.merged_ids, [other.customer_id, *other.merged_ids]),
            }
        )
    return merged.touched(actor, now)


def duplicate_groups(key_owners: Iterable[Sequence[str]]) -> list[list[str]]:
    """Customers sharing any key, joined transitively (A~B by phone, B~C by BSUID: one group)."""
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for owners in key_owners:
        for other in owners[1:]:
            parent[root(other)] = root(owners[0])
    groups: dict[str, list[str]] = {}
    for item in parent:
        groups.setdefault(root(item), []).append(item)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
