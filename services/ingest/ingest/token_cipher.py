"""Channel access tokens encrypted at rest with Fernet, when keys are configured."""

from cryptography.fernet import Fernet, MultiFernet

PREFIX = "fernet:"  # rows written before keys were configured hold the token as given


class TokenKeyMissing(RuntimeError):
    """A stored token is encrypted but no key is configured to read it."""


class TokenCipher:
    """The first key encrypts; every key decrypts, so a key rotates without downtime."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    def seal(self, token: str) -> str:
        if self._fernet is None:
            return token
        return PREFIX + self._fernet.encrypt(token.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise TokenKeyMissing("channel tokens are encrypted: set INGEST_TOKEN_KEYS")
        return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
