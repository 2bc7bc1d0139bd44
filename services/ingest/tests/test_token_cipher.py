"""Channel access tokens sealed at rest: encrypted with the first key, readable with any key,
and rows written before encryption was configured still readable."""

import pytest
from cryptography.fernet import Fernet, InvalidToken

from ingest.channels.store import TokenCipher, TokenKeyMissing


def test_a_sealed_token_does_not_contain_the_token_and_opens_back() -> None:
    cipher = TokenCipher([Fernet.generate_key().decode()])
    sealed = cipher.seal("EAAG-secret-token")
    assert "EAAG" not in sealed
    assert cipher.open(sealed) == "EAAG-secret-token"


def test_a_key_rotates_without_losing_the_tokens_sealed_with_the_old_one() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = TokenCipher([old]).seal("EAAG-before")
    rotated = TokenCipher([new, old])
    assert rotated.open(sealed_before) == "EAAG-before"
    assert TokenCipher([new]).open(rotated.seal("EAAG-after")) == "EAAG-after"
    with pytest.raises(InvalidToken):
        TokenCipher([new]).open(sealed_before)


def test_without_keys_tokens_are_kept_as_given_and_sealed_ones_are_refused() -> None:
    plain = TokenCipher([])
    assert plain.seal("EAAG-x") == "EAAG-x" and plain.open("EAAG-x") == "EAAG-x"
    assert TokenCipher([Fernet.generate_key().decode()]).open("EAAG-legacy") == "EAAG-legacy"
    sealed = TokenCipher([Fernet.generate_key().decode()]).seal("EAAG-y")
    with pytest.raises(TokenKeyMissing):
        plain.open(sealed)
