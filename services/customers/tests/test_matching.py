"""Phone matching: every way a Moroccan shop writes a number, and what must never match."""

import pytest

from customers.cards.search import (
    NAME_START_MAX,
    has_words,
    name_starts,
    name_tokens,
    search_digits,
)
from customers.matching.model import (
    bsuid_key,
    contact_identities,
    contact_phone,
    digit_grams,
    inbound_keys,
    phone_keys,
    username_key,
    wa_id_key,
)
from customers.merging.model import duplicate_groups
from hanout_shared.contracts.whatsapp import ContactIdentity
from hanout_shared.platform.phones import InvalidPhone

NOT_KARIM = ["+33 6 12 34 56 78", "0033612345678", "+34 612 34 56 78", "0712345678",
             "0612345679", "+1 415 555 2671"]  # fmt: skip
# Ranges opened before libphonenumber's metadata listed them (the parser's rules and its other
# cases are tested with it, in shared/tests/test_phones.py).
UNLISTED = ["+212 686 35 33 34", "0683192978", "212685000111"]


@pytest.mark.parametrize("raw", NOT_KARIM)
def test_foreign_and_neighbouring_numbers_never_match_the_moroccan_one(raw: str) -> None:
    assert phone_keys(raw).key != phone_keys("06 12 34 56 78").key


@pytest.mark.parametrize("raw", UNLISTED)
def test_a_number_in_a_range_not_listed_yet_is_found_by_its_wa_id(raw: str) -> None:
    keys = phone_keys(raw)
    assert wa_id_key(keys.international_digits) == keys.key


def test_a_typed_number_that_cannot_be_real_has_no_keys() -> None:
    with pytest.raises(InvalidPhone):
        phone_keys("06 12 34 56 7")


def test_a_wa_id_is_keyed_as_the_phone_it_is() -> None:
    assert wa_id_key("212612345678") == phone_keys("0612345678").key
    assert wa_id_key("33612345678") != phone_keys("0612345678").key
    assert wa_id_key("999") == "wa:999"


def test_an_inbound_contact_is_keyed_by_the_number_ingest_read() -> None:
    contact = ContactIdentity.model_validate(
        {"wa_id": "212612345678", "phone_e164": "+212612345678", "user_id": "MA.1"}
    )
    identities = contact_identities(contact, "pn-1")
    assert inbound_keys(identities, contact_phone(contact)) == [
        "tel:+212612345678",
        bsuid_key("MA.1", "pn-1"),
    ]
    not_a_phone = ContactIdentity.model_validate({"wa_id": "999"})
    assert contact_phone(not_a_phone) is None
    assert inbound_keys(contact_identities(not_a_phone, "pn-1"), None) == ["wa:999"]


def test_an_event_from_before_ingest_read_the_number_falls_back_to_its_wa_id() -> None:
    old = ContactIdentity.model_validate({"wa_id": "212683192978"})
    assert contact_phone(old) == "+212683192978"
    assert contact_phone(ContactIdentity.model_validate({"user_id": "MA.1"})) is None


def test_any_run_of_four_digits_or_more_finds_the_number_by_its_grams() -> None:
    phone = phone_keys("0612345678")
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
