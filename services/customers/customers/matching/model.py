"""Identity matching: the keys a number or a WhatsApp identity is stored and found under, and who
an inbound contact is."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hanout_shared.contracts.customers import Identity
from hanout_shared.contracts.whatsapp import ContactIdentity
from hanout_shared.platform.phones import DEFAULT_REGION, digits_of, parse_phone, wa_id_e164

MIN_FRAGMENT_DIGITS = 4  # also the length of the digit runs cards are indexed under
Outcome = Literal["known", "unknown", "duplicates"]


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


class ContactInfo(BaseModel):
    """What WhatsApp told us about a contact who has no card yet."""

    model_config = ConfigDict(frozen=True)

    profile_name: str | None = None
    phone_e164: str | None = None
    identities: list[Identity] = []
    last_seen_at: datetime | None = None


def digit_grams(digits: str) -> list[str]:
    size = MIN_FRAGMENT_DIGITS
    return list(dict.fromkeys(digits[i : i + size] for i in range(len(digits) - size + 1)))


def phone_key(e164: str) -> str:
    return f"tel:{e164}"


def phone_keys(raw: str, region: str = DEFAULT_REGION) -> PhoneKeys:
    """The keys of the number in `raw` (the platform's parser reads it; InvalidPhone if it
    cannot be a real number)."""
    phone = parse_phone(raw, region)
    return PhoneKeys(phone.e164, phone.national_digits, phone.international_digits)


def wa_id_key(wa_id: str) -> str:
    return wa_key(wa_id, wa_id_e164(wa_id))


def wa_key(wa_id: str, e164: str | None) -> str:
    """Keyed as the phone itself, so a message from a known number finds the card whatever
    format the agent typed it in."""
    return phone_key(e164) if e164 else f"wa:{digits_of(wa_id) or wa_id}"


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


def key_of(identity: Identity) -> str:
    return identity_key(identity.kind, identity.value, identity.scope)


def contact_identities(contact: ContactIdentity, phone_number_id: str) -> list[Identity]:
    found = []
    if contact.wa_id:
        found.append(Identity(kind="wa_id", value=contact.wa_id))
    if contact.user_id:
        found.append(Identity(kind="bsuid", value=contact.user_id, scope=phone_number_id))
    if contact.username:
        found.append(Identity(kind="username", value=contact.username))
    return found


def contact_phone(contact: ContactIdentity) -> str | None:
    """The contact's number as ingest read it from the wa_id. An event from before ingest wrote
    it has none: its wa_id is read by the same parser (which also finds none when ingest did)."""
    return contact.phone_e164 or wa_id_e164(contact.wa_id)


def inbound_keys(identities: Sequence[Identity], phone: str | None) -> list[str]:
    """The keys of an inbound contact's identities, its wa_id under `phone` (`contact_phone`)."""
    return [wa_key(i.value, phone) if i.kind == "wa_id" else key_of(i) for i in identities]


def outcome(matches: Sequence[Any]) -> Outcome:
    if not matches:
        return "unknown"
    return "known" if len(matches) == 1 else "duplicates"
