"""The search box's rules: what a search text is (a fragment of digits or words of a name) and
the word starts a card's name is found under."""

import re
import unicodedata
from collections.abc import Sequence

from customers.matching.model import MIN_FRAGMENT_DIGITS
from hanout_shared.platform.phones import digits_of, undecorated

NAME_START_MAX = 12  # word starts indexed up to this length; a longer search word is checked


def search_digits(query: str) -> str | None:
    """The digits of a search text when it is a number fragment, else None (a name search)."""
    compact = undecorated(query).lstrip("+")
    if not compact or not compact.isdecimal():
        return None
    digits = digits_of(compact)
    return digits if len(digits) >= MIN_FRAGMENT_DIGITS else None


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
