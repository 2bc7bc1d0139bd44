"""Phone numbers: any written form of a number to E.164, by one set of rules for every service."""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "MA"
MAX_RAW_LENGTH = 64
# A country code typed without its "+" is tried when the digits are at least this many.
MIN_INTERNATIONAL_DIGITS = 10

# What people paste around a number: separators, brackets, spreadsheet quote marks, and every
# Unicode space (no-break, narrow no-break, thin) or invisible mark (zero-width, direction marks).
_DECORATION = re.compile(r"[\s\-./()'’`\"\u200b-\u200f\u202a-\u202e\u2060\ufeff]+")


class InvalidPhone(ValueError):
    """A number that cannot be a real phone number: refused, never stored."""


@dataclass(frozen=True)
class ParsedPhone:
    """A number that can be real: its E.164 form and the national digits people type (06…)."""

    e164: str
    national_digits: str

    @property
    def international_digits(self) -> str:
        return self.e164[1:]


def undecorated(text: str) -> str:
    """`text` in NFKC without the decoration people paste around a number."""
    return _DECORATION.sub("", unicodedata.normalize("NFKC", text))


def digits_of(text: str) -> str:
    """Every decimal digit of `text`, whatever its script (Arabic-Indic too), as ASCII."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def _cleaned(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    if len(text) > MAX_RAW_LENGTH:
        raise InvalidPhone(f"A phone number is at most {MAX_RAW_LENGTH} characters")
    compact = _DECORATION.sub("", text)
    if not compact:
        raise InvalidPhone("The phone number is empty")
    plus, digits = compact.startswith("+"), digits_of(compact)
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


def parse_phone(raw: str, region: str = DEFAULT_REGION) -> ParsedPhone:
    """The number in `raw`, read as a local number of `region` unless it says otherwise.

    Raises InvalidPhone with a message fit for the person who typed it.
    """
    text = _cleaned(raw)
    number = _parse(text, region)
    if number is None and not text.startswith("+") and len(text) >= MIN_INTERNATIONAL_DIGITS:
        # A country code typed without its "+" (how wa_ids and many spreadsheets write it).
        number = _parse("+" + text, region)
    if number is None:
        raise InvalidPhone(f"'{raw}' is not a valid phone number (default region {region})")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return ParsedPhone(e164, digits_of(national))


@lru_cache(maxsize=4096)  # a busy contact writes many messages; parsing is the costly part
def wa_id_e164(wa_id: str | None) -> str | None:
    """A wa_id is the phone number in international digits: its E.164 form, or None when there
    is no wa_id or it is not a phone number."""
    if not wa_id:
        return None
    try:
        return parse_phone("+" + wa_id.lstrip("+")).e164
    except InvalidPhone:
        return None


def normalise_region(region: str) -> str:
    """A default region the parser knows (MA, FR…), upper case; ValueError otherwise."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{region}' is not a region code phonenumbers knows (e.g. MA, FR)")
    return code
