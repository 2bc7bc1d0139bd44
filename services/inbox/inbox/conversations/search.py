"""Finding conversations: the search box (names, numbers in any format) and list queries."""

import re
from collections.abc import Iterable

from hanout_shared.platform.phones import InvalidPhone, parse_phone
from inbox.conversations.model import Filter
from inbox.values import Cursor, Frozen, fold

WORD = re.compile(r"\w+")
# Index keys are trigrams: a shorter fragment narrows nothing, and the list is read instead.
GRAM = 3


class Search(Frozen):
    """What a search box query looks for: a name fragment, or digits of a number."""

    text: str | None = None
    digits: str | None = None


class ListQuery(Frozen):
    filter: Filter = "all"
    phone_number_id: str | None = None
    search: Search | None = None
    agent_id: str = ""
    after: Cursor | None = None
    limit: int = 50


def phone_keys(e164: str | None) -> list[str]:
    """The digit strings a search can hit: international (2126…) and national (06…)."""
    if not e164:
        return []
    try:
        phone = parse_phone(e164)
    except InvalidPhone:
        return [e164.lstrip("+")]
    keys = [phone.international_digits]
    return keys + [phone.national_digits] if phone.national_digits not in keys else keys


def search_names(*names: str | None) -> list[str]:
    return sorted({fold(name) for name in names if name and fold(name)})


def grams(text: str) -> list[str]:
    return [text[i : i + GRAM] for i in range(len(text) - GRAM + 1)]


def search_keys(names: Iterable[str], digits: Iterable[str]) -> list[str]:
    """Index keys of a conversation: the trigrams of every word of its (folded) names and of
    its numbers' digits, and each number whole. Keys are matched by equality, which every store
    answers exactly from a multikey index (a range on an array does not narrow MongoDB's index
    scan)."""
    words = {word for name in names for word in WORD.findall(name)}
    keys = {f"t:{gram}" for word in words for gram in grams(word)}
    keys |= {f"d:{gram}" for number in digits for gram in grams(number)}
    keys |= {whole_number(number) for number in digits}
    return sorted(keys)


def whole_number(digits: str) -> str:
    """The key of a number typed whole: every digit of it, however common its trigrams are."""
    return f"n:{digits}"


def search_grams(wanted: Search) -> list[str]:
    """The keys every match of a search has: the trigrams of its digits, or of each of its
    words (a word of a name holds a word of the query whole); none when all are too short."""
    if wanted.digits:
        found = [f"d:{gram}" for gram in grams(wanted.digits)]
    else:
        words = WORD.findall(wanted.text or "")
        found = [f"t:{gram}" for word in words for gram in grams(word)]
    return list(dict.fromkeys(found))


def search(query: str | None) -> Search | None:
    """Letters search names; a number in any format (06…, +212 6…, 00212…, fragments) digits."""
    text = (query or "").strip()
    if not text:
        return None
    if any(c.isalpha() for c in text):
        return Search(text=fold(text))
    digits = re.sub(r"\D", "", text)
    if not digits:
        return Search(text=fold(text))  # punctuation is text too: `.*` finds a name with `.*`
    try:
        return Search(digits=parse_phone(text).international_digits)
    except InvalidPhone:
        pass  # a fragment of a number, or one in no known shape: its digits as typed
    return Search(digits=digits[2:] if digits.startswith("00") else digits)
