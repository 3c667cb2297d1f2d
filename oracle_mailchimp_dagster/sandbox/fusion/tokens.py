"""Access tokens the identity stand-in issues and the pod checks: JWT-looking, expiring on sandbox time."""

import base64
import hashlib
import threading

import orjson

from oracle_mailchimp_dagster.sandbox.fusion.clock import SandboxClock

ISSUER = "https://identity.oraclecloud.com/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenAuthority:
    """Issues bearer tokens and answers whether one is (still) valid."""

    def __init__(self, clock: SandboxClock, seed: int) -> None:
        self._clock = clock
        self._key = hashlib.sha256(f"fusion-sandbox-signing-{seed}".encode()).digest()
        self._lock = threading.Lock()
        self._expiry: dict[str, int] = {}
        self._subject: dict[str, str] = {}
        self._serial = 0

    def issue(self, client_id: str, scope: str, ttl_seconds: int) -> str:
        now = self._clock.now_ms()
        with self._lock:
            self._serial += 1
            serial = self._serial
        header = {"alg": "RS256", "typ": "JWT", "kid": "SIGNING_KEY", "x5t#S256": _b64url(self._key[:24])}
        claims = {
            "sub": client_id,
            "client_id": client_id,
            "sub_type": "client",
            "scope": scope,
            "aud": ["urn:opc:lbaas:logicalguid=fusion-sandbox", scope.split("urn:opc:resource:consumer")[0]],
            "iss": ISSUER,
            "iat": now // 1000,
            "exp": now // 1000 + ttl_seconds,
            "jti": hashlib.sha256(self._key + serial.to_bytes(8, "big")).hexdigest()[:32],
            "tok_type": "AT",
        }
        signing_input = f"{_b64url(orjson.dumps(header))}.{_b64url(orjson.dumps(claims))}"
        signature = hashlib.shake_256(self._key + signing_input.encode()).digest(256)
        token = f"{signing_input}.{_b64url(signature)}"
        with self._lock:
            self._expiry[token] = now + ttl_seconds * 1000
            self._subject[token] = client_id
        return token

    def subject(self, token: str) -> str | None:
        """The client a valid, unexpired token acts for; None for unknown or expired tokens."""
        expires_at = self._expiry.get(token)
        if expires_at is None or self._clock.now_ms() >= expires_at:
            return None
        return self._subject[token]

    def expire(self, token: str | None = None) -> int:
        """Expire one token (or all when None); returns how many valid tokens were expired."""
        now = self._clock.now_ms()
        with self._lock:
            targets = [token] if token is not None else list(self._expiry)
            expired = 0
            for name in targets:
                if name in self._expiry and self._expiry[name] > now:
                    self._expiry[name] = -1
                    expired += 1
            return expired

    def active(self) -> int:
        now = self._clock.now_ms()
        return sum(1 for expires_at in list(self._expiry.values()) if expires_at > now)
