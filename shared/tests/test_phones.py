"""The phone parser: every way a Moroccan shop writes a number, and what is refused."""

import pytest

from hanout_shared.platform.phones import (
    InvalidPhone,
    digits_of,
    normalise_region,
    parse_phone,
    wa_id_e164,
)

KARIM = "+212612345678"
SAME_AS_KARIM = [
    "+212 6 12 34 56 78",
    "00212612345678",
    "212612345678",
    "0612345678",
    "06 12 34 56 78",
    "06-12-34-56-78",
    "06.12.34.56.78",
    "+212 (0) 6 12 34 56 78",
    "+212-0612345678",
    "(+212) 612345678",
    "'0612345678",
    "’06 12 34 56 78",
    "06\u00a012\u00a034\u00a056\u00a078",
    "06\u202f12\u202f34\u202f56\u202f78",
    "\u200e+212 612 345 678\u200f",
    " 0612345678 ",
    "٠٦١٢٣٤٥٦٧٨",
    "612345678",
    "06/12/34/56/78",
]
LANDLINE = "+212522123456"
SAME_AS_LANDLINE = ["05 22 12 34 56", "0522-123456", "+212 5 22 12 34 56", "00212522123456"]
NOT_KARIM = [
    ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("+34 612 34 56 78", "+34612345678"),
    ("0712345678", "+212712345678"),
    ("0612345679", "+212612345679"),
    ("+1 415 555 2671", "+14155552671"),
]
INVALID = [
    "",
    "   ",
    "abc",
    "06 12 34 56 7",
    "0612",
    "+2126123456789",
    "06123abc45678",
    "tel: 0612345678",
    "0612345678 ext 2",
    "+",
    "0" * 80,
    "+212 983 123456",
    "+212 6123 4567",
]
# Ranges opened before libphonenumber's metadata listed them: customers write from them.
UNLISTED = [("+212 686 35 33 34", "+212686353334"), ("0683192978", "+212683192978"),
            ("212685000111", "+212685000111")]  # fmt: skip


@pytest.mark.parametrize("raw", SAME_AS_KARIM)
def test_every_moroccan_way_of_writing_a_mobile_is_the_same_number(raw: str) -> None:
    assert parse_phone(raw).e164 == KARIM


@pytest.mark.parametrize("raw", SAME_AS_LANDLINE)
def test_moroccan_landlines_normalise_too(raw: str) -> None:
    assert parse_phone(raw).e164 == LANDLINE


@pytest.mark.parametrize(("raw", "e164"), NOT_KARIM)
def test_foreign_and_neighbouring_numbers_never_match_the_moroccan_one(raw: str, e164: str) -> None:
    parsed = parse_phone(raw)
    assert parsed.e164 == e164
    assert parsed.e164 != parse_phone("06 12 34 56 78").e164


@pytest.mark.parametrize("raw", INVALID)
def test_garbage_is_refused_with_a_message_naming_it(raw: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        parse_phone(raw)
    assert str(refused.value)


def test_the_default_region_reads_local_numbers_of_that_country() -> None:
    assert parse_phone("06 12 34 56 78", "FR").e164 == "+33612345678"
    assert parse_phone("+212 6 12 34 56 78", "FR").e164 == KARIM
    assert parse_phone("212612345678", "FR").e164 == KARIM


@pytest.mark.parametrize(("raw", "e164"), UNLISTED)
def test_a_number_in_a_range_not_listed_yet_is_taken(raw: str, e164: str) -> None:
    assert parse_phone(raw).e164 == e164
    assert wa_id_e164(e164[1:]) == e164


def test_a_number_knows_its_national_and_international_digits() -> None:
    parsed = parse_phone("+212 6 12 34 56 78")
    assert (parsed.national_digits, parsed.international_digits) == ("0612345678", "212612345678")
    assert parse_phone("+33 6 12 34 56 78").national_digits == "0612345678"


def test_a_wa_id_is_read_as_the_international_number_it_is() -> None:
    assert wa_id_e164("212612345678") == KARIM
    assert wa_id_e164("+212612345678") == KARIM
    assert wa_id_e164("33612345678") == "+33612345678"
    assert wa_id_e164("0612345678") is None  # a wa_id never drops its country code
    for not_a_number in ("999", "", None, "MA.18274650193847561029"):
        assert wa_id_e164(not_a_number) is None


def test_digits_of_any_script_are_ascii_digits() -> None:
    assert digits_of("٠٦ 12-۳۴") == "061234"


def test_a_default_region_must_be_one_the_parser_knows() -> None:
    assert normalise_region(" fr ") == "FR"
    with pytest.raises(ValueError):
        normalise_region("XX")
