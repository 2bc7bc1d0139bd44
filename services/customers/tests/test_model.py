"""The card's pure rules: creation, merges, learning identities, and stats from orders."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from customers.cards.model import (
    CardFields,
    Customer,
    CustomerPatch,
    Invalid,
    OrderRow,
    WorkspaceSettings,
    compute_stats,
    learn,
    new_customer,
    patched,
)
from customers.cards.store import from_centimes, to_centimes
from customers.merging.model import merge
from hanout_shared.contracts.customers import Identity

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
SETTINGS = WorkspaceSettings()


def a_customer(**fields: object) -> Customer:
    return new_customer(
        CardFields.model_validate(fields), SETTINGS, workspace_id="ws", actor="agent-1", now=NOW
    )


def an_order_row(total: str, state: str = "new", days: int = 0, currency: str = "MAD") -> OrderRow:
    return OrderRow(
        order_id=f"o-{total}-{state}-{days}",
        customer_id="c",
        total=Decimal(total),
        currency=currency,
        state=state,
        placed_at=NOW + timedelta(days=days),
        version=1,
    )


def test_a_new_card_keeps_each_phone_as_typed_and_normalised() -> None:
    customer = a_customer(name=" Karim ", phones=["06 12 34 56 78", "+212612345678"])
    assert customer.name == "Karim"
    assert [(p.e164, p.raw) for p in customer.phones] == [("+212612345678", "06 12 34 56 78")]
    assert customer.created_by == "agent-1" and customer.version == 1


def test_an_invalid_phone_names_the_field_it_came_from() -> None:
    with pytest.raises(Invalid) as refused:
        a_customer(phones=["0612345678", "06 12"])
    assert (refused.value.code, refused.value.field) == ("invalid_phone", "phones.1")


def test_a_status_must_be_one_of_the_workspace_list() -> None:
    with pytest.raises(Invalid) as refused:
        a_customer(name="Karim", status="gold")
    assert refused.value.code == "unknown_status"
    assert a_customer(name="Karim", status="VIP").status == "VIP"


def test_a_patch_changes_only_the_fields_it_names_and_bumps_the_version() -> None:
    before = a_customer(name="Karim", city="Fès", tags=["vip"])
    after = patched(before, CustomerPatch(city="Rabat"), SETTINGS, "agent-2", NOW)
    assert (after.name, after.city, after.tags) == ("Karim", "Rabat", ["vip"])
    assert (after.version, after.updated_by) == (2, "agent-2")


def test_a_merge_unites_phones_identities_and_tags_and_fills_empty_fields() -> None:
    survivor = a_customer(name="Karim", phones=["0612345678"], tags=["vip"])
    other = a_customer(
        name="K. Alaoui",
        phones=["+212 6 12 34 56 78", "0698765432"],
        city="Tanger",
        tags=["vip", "late payer"],
        identities=[Identity(kind="bsuid", value="MA.1", scope="pn")],
    )
    merged = merge(survivor, [other], "agent-2", NOW)
    assert merged.name == "Karim"
    assert merged.city == "Tanger"
    assert [p.e164 for p in merged.phones] == ["+212612345678", "+212698765432"]
    assert merged.tags == ["vip", "late payer"]
    assert [i.value for i in merged.identities] == ["MA.1"]
    assert merged.merged_ids == [other.customer_id]
    assert merged.version == survivor.version + 1


def test_learning_adds_only_identities_the_card_does_not_have() -> None:
    customer = a_customer(name="Karim", phones=["0612345678"])
    seen = [Identity(kind="wa_id", value="212612345678"), Identity(kind="bsuid", value="MA.9")]
    learned = learn(customer, seen, NOW)
    assert learned is not None
    assert [i.kind for i in learned.identities] == ["bsuid"]
    assert learn(learned, seen, NOW) is None


def test_stats_count_every_order_but_only_spend_what_was_not_cancelled_or_returned() -> None:
    stats = compute_stats(
        [
            an_order_row("249.90"),
            an_order_row("100.10", days=3),
            an_order_row("500.00", "cancelled", days=5),
            an_order_row("80.00", "returned", days=1),
        ]
    )
    assert stats.orders_count == 4
    assert stats.not_spent_count == 2
    assert stats.total_spent == Decimal("350.00")
    assert stats.last_order_at == NOW + timedelta(days=5)


def test_stats_sum_exactly_with_no_float_rounding() -> None:
    stats = compute_stats([an_order_row("0.10", days=d) for d in range(3)])
    assert stats.total_spent == Decimal("0.30")
    assert compute_stats([]).total_spent == 0 and compute_stats([]).last_order_at is None


def test_money_goes_to_the_store_as_exact_centimes_and_back() -> None:
    for amount, centimes in [("249.90", 24990), ("0", 0), ("0.3", 30), ("1000000.01", 100000001)]:
        assert to_centimes(Decimal(amount)) == centimes
        assert from_centimes(centimes) == Decimal(amount)
    with pytest.raises(ValueError, match="centimes"):
        to_centimes(Decimal("10.005"))
