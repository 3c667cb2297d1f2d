"""Email normalisation and validation (the subscriber hash is in `sync.identity`)."""

import re

# Pragmatic address syntax: one @, no spaces, a dotted domain with a 2+ letter TLD.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def normalize_email(raw: object) -> str | None:
    """Trimmed, lower-cased address, or None when there is none."""
    if raw is None:
        return None
    text = str(raw).strip().lower()
    return text or None


def email_problem(email: str | None) -> str | None:
    """Why this normalised address cannot be a member, or None when it can."""
    if email is None:
        return "no email address"
    if not email.isascii():
        # Mailchimp accepts only ASCII addresses (no internationalised mailboxes or domains).
        return "email address has non-ASCII characters"
    if len(email) > 254 or not _EMAIL.match(email):
        return "malformed email address"
    local = email.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or ".." in email:
        return "malformed email address"
    return None
