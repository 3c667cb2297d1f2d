"""In-process OAuth token cache shared by every thread and client: one token request per expiry.

Keyed by (token URL, client id, scope, credential): the credential is the client secret's
fingerprint (`sync.identity.credential_fingerprint`), never the secret, so a client with a wrong
secret never borrows the token another client's right secret obtained. A token is reused until
shortly before `expires_in` runs out. Concurrent callers that find no valid token queue on a per-key
lock and re-check after taking it (double-checked locking), so fifty threads starting at once cause
one token request.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr


@dataclass(frozen=True)
class TokenKey:
    """Who a token was issued to; `credential` is the fingerprint of the secret that asked for it."""

    token_url: str
    client_id: str
    scope: str
    credential: str


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint returned: the secret value and its lifetime in seconds."""

    access_token: SecretStr
    expires_in_s: float


@dataclass(frozen=True)
class _Entry:
    token: SecretStr
    refresh_at: float


class TokenCache:
    """Tokens by key, refreshed `margin` seconds early (never more than 10% of a token's life)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._entries: dict[TokenKey, _Entry] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}

    def get(self, key: TokenKey, fetch: Callable[[], IssuedToken], margin_s: float) -> tuple[SecretStr, bool]:
        """A valid token for `key`, and whether this call had to fetch it."""
        entry = self._valid(key)
        if entry is not None:
            return entry.token, False
        with self._lock_for(key):
            entry = self._valid(key)
            if entry is not None:
                return entry.token, False
            issued = fetch()
            life = max(issued.expires_in_s, 0.0)
            refresh_at = self._clock() + life - min(margin_s, life * 0.1)
            with self._guard:
                self._entries[key] = _Entry(issued.access_token, refresh_at)
            return issued.access_token, True

    def invalidate(self, key: TokenKey, stale: SecretStr) -> None:
        """Drop the cached token if it is still `stale` (a newer one fetched meanwhile is kept)."""
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None and entry.token.get_secret_value() == stale.get_secret_value():
                del self._entries[key]

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def _valid(self, key: TokenKey) -> _Entry | None:
        with self._guard:
            entry = self._entries.get(key)
        if entry is not None and self._clock() < entry.refresh_at:
            return entry
        return None

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


# The process-wide cache every FusionClient uses unless given its own.
PROCESS_TOKEN_CACHE = TokenCache()
