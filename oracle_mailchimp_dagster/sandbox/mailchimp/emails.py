"""Email addresses as Mailchimp sees them: the subscriber hash, syntax, and its fake-address heuristic."""

import hashlib
import re
from collections.abc import Iterable

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def subscriber_hash(email: str) -> str:
    """md5 of the lowercased address: the member id and the `{subscriber_hash}` in paths."""
    return hashlib.md5(email.lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def looks_like_hash(value: str) -> bool:
    return bool(_HEX32.fullmatch(value))


def is_valid_email(email: str) -> bool:
    """Syntax only; Mailchimp answers `Please provide a valid email address.` otherwise."""
    local, _, domain = email.rpartition("@")
    return len(email) <= 254 and 0 < len(local) <= 64 and bool(domain) and bool(_EMAIL.fullmatch(email))


def looks_fake(email: str, domains: Iterable[str], tlds: Iterable[str], local_parts: Iterable[str]) -> bool:
    """The deny-list heuristic: a listed domain (or its subdomain), a reserved TLD, or a listed mailbox."""
    local, _, domain = email.lower().rpartition("@")
    if local in set(local_parts):
        return True
    if domain.rsplit(".", 1)[-1] in set(tlds):
        return True
    return any(domain == d or domain.endswith("." + d) for d in domains)
