"""Values as a message may show them: on one line, bounded, and without a URL's password.

A refusal quotes what was typed so the reader can find it; a newline or a right-to-left override in
that quote would break the one-line rule or reorder the line on the terminal, and a 2 MB value would
drown it, so everything outside printable ASCII is escaped and long values are cut.
"""

from oracle_mailchimp_dagster.http.redaction import redact

SHOWN_CHARS = 80


def code_point(char: str) -> str:
    """`U+202E`: how a message names a character without printing it."""
    return f"U+{ord(char):04X}"


def shown(value: str, limit: int = SHOWN_CHARS) -> str:
    """`value` redacted, with every character outside printable ASCII escaped, cut after `limit`."""
    text = "".join(char if " " <= char <= "~" else f"\\u{ord(char):04x}" for char in redact(value))
    if len(text) > limit:
        return f"{text[:limit]}... ({len(value):,} characters)"
    return text
