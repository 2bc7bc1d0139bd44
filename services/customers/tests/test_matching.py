"""Phone matching: every way a Moroccan shop writes a number, and what must never match."""

import pytest

from customers.matching import (
    NAME_START_MAX,
    InvalidPhone,
    bsuid_key,
    digit_grams,
    duplicate_groups,
    has_words,
    name_starts,
    name_tokens,
    parse_phone,
    search_digits,
    username_key,
    wa_id_key,
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
    assert parsed.key != parse_phone("06 12 34 56 78").key


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
    assert wa_id_key(e164[1:]) == parse_phone(raw).key


def test_a_wa_id_is_keyed_as_the_phone_it_is() -> None:
    assert wa_id_key("212612345678") == parse_phone("0612345678").key
    assert wa_id_key("33612345678") != parse_phone("0612345678").key
    assert wa_id_key("999") == "wa:999"


def test_any_run_of_four_digits_or_more_finds_the_number_by_its_grams() -> None:
    phone = parse_phone("0612345678")
    for typed in ("5678", "345678", "0612345678", "212612345678", "2126123", "061234"):
        assert set(digit_grams(typed)) <= set(phone.grams()) and phone.holds(typed), typed
    assert not phone.holds("33612") and not set(digit_grams("33612")) <= set(phone.grams())
    assert phone.holds("12345678") and not phone.holds("5678061")  # runs in a row, not scattered
    assert all(len(gram) == 4 for gram in phone.grams())


def test_a_search_text_is_a_fragment_only_when_it_is_digits() -> None:
    assert search_digits("06 12 34") == "061234"
    assert search_digits("+212 6") == "2126"
    assert search_digits("061") is None
    assert search_digits("Karim 0612") is None


def test_bsuids_are_scoped_to_the_business_number_and_usernames_fold_case() -> None:
    assert bsuid_key("MA.123", "pn-1") != bsuid_key("MA.123", "pn-2")
    assert username_key("@Karim.Shop") == username_key("karim.shop")


def test_names_are_searched_without_case_or_accents() -> None:
    assert name_tokens("Hélène  EL-Amrani") == ["helene", "el", "amrani"]
    assert name_tokens(None) == []


def test_every_start_of_every_word_finds_a_name_and_every_search_word_must() -> None:
    starts = name_starts("Hélène El-Amrani")
    assert {"h", "hel", "helene", "el", "amr", "amrani"} <= set(starts)
    assert "lene" not in starts and len(starts) == len(set(starts))
    assert max(len(s) for s in name_starts("Abdelouahhabinou")) == NAME_START_MAX
    assert has_words("Hélène El-Amrani", ["amr", "hel"])
    assert not has_words("Hélène El-Amrani", ["amr", "karim"])
    assert has_words("Abdelouahhabinou", ["abdelouahhabin"])  # past the indexed start
    assert not has_words("Abdelouahhabinou", ["abdelouahhabix"])


def test_duplicate_groups_join_cards_sharing_any_key_transitively() -> None:
    groups = duplicate_groups([["a", "b"], ["b", "c"], ["d", "e"], ["f"]])
    assert groups == [["a", "b", "c"], ["d", "e"]]
