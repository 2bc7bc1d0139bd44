"""Money in the store: whole centimes as int64, because FerretDB v1 has no Decimal128."""

from decimal import Decimal


def to_centimes(amount: Decimal) -> int:
    """Exact: an amount finer than a centime is refused, never rounded."""
    centimes = amount.scaleb(2)
    if centimes != centimes.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of centimes")
    return int(centimes)


def from_centimes(centimes: int) -> Decimal:
    return Decimal(centimes).scaleb(-2)
