"""Who is calling: the account a request belongs to, without ever keeping the raw API key.

A provider's auth layer usually knows the account and can put it in a header (say
`x-account-id`); the gateway then trusts that header. Otherwise the account is a keyed hash of
the API key (`x-api-key` or `Authorization: Bearer ...`). The hash is keyed (BLAKE2b with a
secret) so that logs and shared state cannot be turned back into keys by hashing guesses, and
stable across replicas and restarts as long as they share the key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import warnings
from dataclasses import dataclass

IDENTITY_KEY_ENV = "DISTILLGUARD_IDENTITY_KEY"
ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Identity:
    account_id: str  # what state, policy and logs are keyed by
    api_key_id: str | None  # keyed hash of the API key, None when the request carried none


class IdentityResolver:
    """Resolve the account of a request from its ASGI headers."""

    __slots__ = ("_account_header", "_cache", "_key")

    def __init__(self, account_header: str | None = None, key: bytes | None = None) -> None:
        self._account_header = account_header.lower().encode() if account_header else None
        if key is None:
            env = os.environ.get(IDENTITY_KEY_ENV)
            if env:
                key = env.encode()
            else:
                # Still never the raw key, but ids differ between replicas and restarts.
                warnings.warn(
                    f"{IDENTITY_KEY_ENV} is not set: API-key hashes use a random per-process key",
                    stacklevel=2,
                )
                key = secrets.token_bytes(32)
        self._key = hashlib.blake2b(key, digest_size=32).digest()  # any length in, 32 bytes out
        # Keys repeat on every request of an account; caching the digest keeps the hot path cheap.
        self._cache: dict[bytes, str] = {}

    def key_id(self, api_key: bytes) -> str:
        """The keyed hash of an API key, as `key_` + 24 hex characters."""
        cached = self._cache.get(api_key)
        if cached is not None:
            return cached
        digest = hashlib.blake2b(api_key, key=self._key, digest_size=12).hexdigest()
        kid = "key_" + digest
        if len(self._cache) >= 65536:  # bounded: a flood of fresh keys cannot grow memory
            self._cache.clear()
        self._cache[api_key] = kid
        return kid

    def resolve(self, headers: list[tuple[bytes, bytes]]) -> Identity:
        """The account of a request: the configured header when present, else the key hash."""
        api_key: bytes | None = None
        account: bytes | None = None
        for name, value in headers:
            if name == b"x-api-key":
                api_key = value.strip()
            elif name == b"authorization" and api_key is None:
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer" and token.strip():
                    api_key = token.strip()
            elif self._account_header is not None and name == self._account_header:
                account = value.strip()
        key_id = self.key_id(api_key) if api_key else None
        if account:
            return Identity(account.decode("latin-1"), key_id)
        return Identity(key_id or ANONYMOUS, key_id)
