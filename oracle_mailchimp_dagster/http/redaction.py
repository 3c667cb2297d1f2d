"""Keep credentials out of messages: what a server echoes, or a URL carries, never reaches an exception.

Servers copy requests into their error bodies (an echoed `Authorization` header, a form body, a
redirect target with a token in it), and those bodies become exception text, event logs and
`tenants test --json` output. Pure string rules, so every client and the diagnostics apply the same:

- the secrets a caller knows (an API key, a client secret, a password, an issued token), as
  plaintext, percent- or JSON-escaped, and inside any base64 run (so `b64(user:secret)` at any
  alignment);
- credential-shaped text whoever it belongs to: `Basic <b64 of user:pw>`, `Bearer <token>`,
  `OAuth <token>`, an `Authorization` header's value, `access_token` (and other secret-named) values
  in JSON or form text, and the password of URL userinfo.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from functools import cached_property
from urllib.parse import quote, quote_plus, urlsplit

from pydantic import SecretStr

REDACTED = "**********"

Redact = Callable[[str], str]

# Names whose values are credentials, in JSON (`"access_token": "..."`) or form/query text (`a=b&...`).
_SECRET_NAMES = r"access_token|refresh_token|id_token|client_secret|password|passwd|api_?key|apikey|secret"
_JSON_SECRET = re.compile(rf'(?i)("(?:{_SECRET_NAMES})"\s*:\s*")((?:[^"\\]|\\.)*)(")')
_FORM_SECRET = re.compile(rf"(?i)\b((?:{_SECRET_NAMES})=)([^&\s\"'<>]+)")
# `Authorization: <scheme> <credentials>` or `Authorization=<credentials>` as a header echo or text.
_AUTHORIZATION = re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)((?:[A-Za-z]+\s+)?[^\s\"'<>,;&]+)")
_BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/_-]{2,}={0,2})")
_TOKEN_SCHEME = re.compile(r"(?i)\b((?:bearer|oauth)\s+)([A-Za-z0-9\-._~+/]+=*)")
# scheme://user:password@ or scheme://token@ (userinfo stops at the first '/', '?', '#' or space).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@:\"'<>]*)(:[^\s/?#@\"'<>]*)?@")
_B64_CHARS = "A-Za-z0-9+/_-"


class Redactor:
    """Removes the given secrets (in every encoding a server may echo) and any credential-shaped text.

    Cheap to build; the patterns for the known secrets are compiled on first use only, so a client can
    keep one per connection and extend it with a freshly issued token on an error path.
    """

    def __init__(self, secrets: Iterable[str | SecretStr | None] = ()) -> None:
        values = (s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets)
        self._secrets = tuple(sorted({v for v in values if v}, key=len, reverse=True))

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"

    def with_secrets(self, *secrets: str | SecretStr | None) -> "Redactor":
        """This redactor plus more secrets (e.g. the access token a request presented)."""
        return Redactor((*self._secrets, *secrets))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for literal in self._literals:
            text = text.replace(literal, REDACTED)
        if self._b64_runs is not None:
            text = self._b64_runs.sub(REDACTED, text)
        return redact_credentials(text)

    @cached_property
    def _literals(self) -> tuple[str, ...]:
        forms: dict[str, None] = {}
        for secret in self._secrets:
            for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
                forms.setdefault(form)
        return tuple(sorted(forms, key=len, reverse=True))

    @cached_property
    def _b64_runs(self) -> re.Pattern[str] | None:
        cores = {core for secret in self._secrets for core in _base64_cores(secret.encode("utf-8"))}
        if not cores:
            return None
        alternatives = "|".join(re.escape(core) for core in sorted(cores, key=len, reverse=True))
        return re.compile(rf"[{_B64_CHARS}]*(?:{alternatives})[{_B64_CHARS}]*={{0,2}}")


def redact(text: str, secrets: Iterable[str | SecretStr | None] = ()) -> str:
    """`text` without the given secrets and without anything credential-shaped."""
    return Redactor(secrets)(text)


def redact_credentials(text: str) -> str:
    """The rules that need no known secret: auth schemes, secret-named values, URL userinfo."""
    text = _USERINFO.sub(_userinfo, text)
    text = _JSON_SECRET.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    text = _FORM_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BASIC.sub(_basic, text)
    text = _TOKEN_SCHEME.sub(_token, text)
    return _AUTHORIZATION.sub(_authorization, text)


def host_of(url: str) -> str:
    """`host[:port]` of a URL: what a message may name (never userinfo, path or query)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "an unreadable address"
    if not host:
        return "an unreadable address"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 characters that encode only `secret`'s bytes, for each of the 3 alignments.

    Whatever precedes the secret (`user:` in Basic credentials) shifts it by 0, 1 or 2 bytes within
    base64's 3-byte groups; the groups that hold secret bytes only are the same text in every
    encoding with that shift, so finding them finds the secret wherever it was encoded.
    """
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode("ascii")
        start = 4 if shift else 0  # the first group mixes in the shift bytes
        end = len(encoded) - (4 if (shift + len(secret)) % 3 else 0)  # the last may be partial
        core = encoded[start:end]
        if len(core) >= 4:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def _userinfo(match: re.Match[str]) -> str:
    scheme, user, password = match.group(1), match.group(2), match.group(3)
    if password is None:
        return f"{scheme}{REDACTED}@"
    return f"{scheme}{user}:{REDACTED}@"


def _basic(match: re.Match[str]) -> str:
    value = match.group(2)
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError):
        return match.group(0)
    # Basic credentials decode to `user:password`; prose such as "Basic auth" does not.
    return match.group(1) + REDACTED if b":" in decoded else match.group(0)


def _token(match: re.Match[str]) -> str:
    value = match.group(2)
    # Tokens are long or mixed; prose such as "OAuth client" or "Bearer token" is neither.
    looks_issued = len(value) >= 20 or (len(value) >= 8 and re.search(r"[0-9\-._~+/=]", value))
    return match.group(1) + REDACTED if looks_issued else match.group(0)


def _authorization(match: re.Match[str]) -> str:
    return match.group(0) if match.group(2) == REDACTED else match.group(1) + REDACTED
