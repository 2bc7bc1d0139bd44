"""Phone and identity matching: any written form of a number to E.164, and the keys to look up."""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers

from hanout_shared.contracts.customers import Identity
from hanout_shared.contracts.whatsapp import ContactIdentity

DEFAULT_REGION = "MA"
MIN_FRAGMENT_DIGITS = 4  # also the length of the digit runs cards are indexed under
NAME_START_MAX = 12  # word starts indexed up to this length; a longer search word is checked
MAX_RAW_LENGTH = 64

# What people paste around a number: separators, brackets, spreadsheet quote marks, and every
# Unicode space (no-break, narrow no-break, thin) or invisible mark (zero-width, direction marks).
_DECORATION = re.compile(r"[\s\-./()'’`\"\u200b-\u200f\u202a-\u202e\u2060\ufeff]+")


class InvalidPhone(ValueError):
    """A number that cannot be a real phone number: refused, never stored."""


@dataclass(frozen=True)
class PhoneKeys:
    """What a valid number is stored and found under."""

    e164: str
    national_digits: str
    international_digits: str

    @property
    def key(self) -> str:
        return phone_key(self.e164)

    def grams(self) -> list[str]:
        """Every run of four digits of its national and international forms: every run of a
        fragment a person may type is among them, and equality on each is exact and indexed
        on every store (a prefix range on an array does not narrow MongoDB's index scan)."""
        forms = (self.international_digits, self.national_digits)
        return list(dict.fromkeys(gram for digits in forms for gram in digit_grams(digits)))

    def holds(self, fragment: str) -> bool:
        return fragment in self.international_digits or fragment in self.national_digits


def digit_grams(digits: str) -> list[str]:
    size = MIN_FRAGMENT_DIGITS
    return list(dict.fromkeys(digits[i : i + size] for i in range(len(digits) - size + 1)))


def phone_key(e164: str) -> str:
    return f"tel:{e164}"


def _digits_only(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def _cleaned(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    if len(text) > MAX_RAW_LENGTH:
        raise InvalidPhone("A phone number is at most 64 characters")
    compact = _DECORATION.sub("", text)
    if not compact:
        raise InvalidPhone("The phone number is empty")
    plus, digits = compact.startswith("+"), _digits_only(compact)
    if len(digits) != len(compact) - plus:
        raise InvalidPhone(f"'{raw}' has characters that are not part of a phone number")
    return ("+" if plus else "") + digits


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) or _in_plan(number) else None


def _in_plan(number: phonenumbers.PhoneNumber) -> bool:
    """Of a possible length and of its country's overall numbering shape, in a range not listed:
    operators open ranges before libphonenumber's metadata lists them (it has no +212 683, 685,
    686), and a customer writing from one is real. A kept leading zero (a digit short) is still
    refused."""
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc if metadata is not None else None
    shape = general.national_number_pattern if general is not None else None
    if shape is None or not phonenumbers.is_possible_number(number):
        return False
    return re.fullmatch(shape, phonenumbers.national_significant_number(number)) is not None


def parse_phone(raw: str, region: str = DEFAULT_REGION) -> PhoneKeys:
    """The number in `raw`, read as a local number of `region` unless it says otherwise.

    Raises InvalidPhone with a message fit for the person who typed it.
    """
    text = _cleaned(raw)
    number = _parse(text, region)
    if number is None and not text.startswith("+") and len(text) >= 10:
        # A country code typed without its "+" (how wa_ids and many spreadsheets write it).
        number = _parse("+" + text, region)
    if number is None:
        raise InvalidPhone(f"'{raw}' is not a valid phone number (default region {region})")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return PhoneKeys(e164, _digits_only(national), e164[1:])


def normalise_region(region: str) -> str:
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{region}' is not a region code phonenumbers knows (e.g. MA, FR)")
    return code


def search_digits(query: str) -> str | None:
    """The digits of a search text when it is a number fragment, else None (a name search)."""
    compact = _DECORATION.sub("", unicodedata.normalize("NFKC", query)).lstrip("+")
    if not compact or not compact.isdecimal():
        return None
    digits = _digits_only(compact)
    return digits if len(digits) >= MIN_FRAGMENT_DIGITS else None


def wa_id_phone(wa_id: str | None) -> str | None:
    """A wa_id is the phone number in international digits; its E.164 form when it is one."""
    if not wa_id:
        return None
    try:
        return parse_phone("+" + wa_id.lstrip("+")).e164
    except InvalidPhone:
        return None


def wa_id_key(wa_id: str) -> str:
    """Keyed as the phone itself, so a message from a known number finds the card whatever
    format the agent typed it in."""
    e164 = wa_id_phone(wa_id)
    return phone_key(e164) if e164 else f"wa:{_digits_only(wa_id) or wa_id}"


def bsuid_key(user_id: str, scope: str | None) -> str:
    """A BSUID is only unique within the business portfolio that issued it; we key it with the
    business number it was seen on, the narrowest scope a message tells us."""
    return f"bsuid:{scope or ''}:{user_id}"


def username_key(username: str) -> str:
    return f"username:{username.strip().lstrip('@').casefold()}"


def identity_key(kind: str, value: str, scope: str | None = None) -> str:
    if kind == "wa_id":
        return wa_id_key(value)
    if kind == "bsuid":
        return bsuid_key(value, scope)
    if kind == "username":
        return username_key(value)
    return f"{kind}:{value}"


def name_tokens(name: str | None) -> list[str]:
    """Words of a name folded for search: lower case, accents removed (Hélène finds Helene)."""
    if not name:
        return []
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return list(dict.fromkeys(re.findall(r"\w+", plain)))


def name_starts(name: str | None) -> list[str]:
    """Every start of every word of a name, up to NAME_START_MAX letters: a search word finds
    the name by equality."""
    return list(
        dict.fromkeys(
            word[:size]
            for word in name_tokens(name)
            for size in range(1, min(len(word), NAME_START_MAX) + 1)
        )
    )


def has_words(name: str | None, words: Sequence[str]) -> bool:
    """Every search word starts a word of the name."""
    held = name_tokens(name)
    return all(any(mine.startswith(word) for mine in held) for word in words)


def contact_identities(contact: ContactIdentity, phone_number_id: str) -> list[Identity]:
    found = []
    if contact.wa_id:
        found.append(Identity(kind="wa_id", value=contact.wa_id))
    if contact.user_id:
        found.append(Identity(kind="bsuid", value=contact.user_id, scope=phone_number_id))
    if contact.username:
        found.append(Identity(kind="username", value=contact.username))
    return found


def outcome(matches: Sequence[Any]) -> Literal["known", "unknown", "duplicates"]:
    if not matches:
        return "unknown"
    return "known" if len(matches) == 1 else "duplicates"


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
