"""Reading the credential out of an `Authorization` header, in each form Mailchimp clients use (§2, §9.1)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from oracle_mailchimp_dagster.sandbox.mailchimp.config import API_KEY_PATTERN

CredentialKind = Literal["api_key", "oauth_token"]


@dataclass(frozen=True)
class Credential:
    """What a request presented: an API key (`<hex>-<dc>`) or an OAuth access token."""

    kind: CredentialKind
    secret: str

    def __repr__(self) -> str:
        return f"Credential({self.kind}, {self.label})"

    @property
    def dc(self) -> str | None:
        if self.kind != "api_key" or "-" not in self.secret:
            return None
        return self.secret.rsplit("-", 1)[1]

    @property
    def label(self) -> str:
        """A name for stats and dumps that does not reveal the secret."""
        return credential_label(self.secret)


def credential_label(secret: str) -> str:
    head, _, dc = secret.partition("-")
    return f"****{head[-4:]}-{dc}" if dc else f"****{head[-4:]}"


def _classify(secret: str) -> Credential:
    kind: CredentialKind = "api_key" if API_KEY_PATTERN.fullmatch(secret) or "-" in secret else "oauth_token"
    return Credential(kind, secret)


def parse_authorization(header: str | None) -> Credential | None:
    """The credential in the header, or None when there is none (or it is empty).

    `Basic base64(any:KEY)`, `Bearer KEY|TOKEN`, `OAuth TOKEN` and `apikey KEY` are accepted; a Bearer value
    shaped like an API key is taken as one.
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return Credential("api_key", "")
        _, _, password = decoded.partition(":")
        return _classify(password) if password else None
    if not value:
        return None
    if scheme == "apikey":
        return Credential("api_key", value)
    if scheme == "oauth":
        return Credential("oauth_token", value)
    if scheme == "bearer":
        return _classify(value)
    return Credential("api_key", "")
