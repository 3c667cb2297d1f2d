"""What free-text settings may contain: the display name, the OAuth scope, the client id, the path.

Each rule names the first problem and never repeats a long or invisible value: a control character
in a name ends up in terminals and logs, a bidirectional override (U+202E) makes a name read as
another, and a 2 MB scope is stored, logged and sent on every token request.
"""

import unicodedata
from collections.abc import Callable

from oracle_mailchimp_dagster.tenants.shown import code_point, shown

MAX_DISPLAY_NAME_CHARS = 200
# RFC 6749 sets no limit; Oracle identity domain scopes are a resource URN and a few words.
MAX_SCOPE_CHARS = 2_000
# OAuth client ids of IDCS / OCI IAM are 32 hex digits; Fusion user names are at most 100 characters.
MAX_CLIENT_ID_CHARS = 255
MAX_RESOURCE_PATH_CHARS = 500

# Characters that change the direction of the text around them (Unicode bidirectional controls).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control (Cc), format (Cf, e.g. zero-width), line and paragraph separators, surrogates, private, unassigned.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def invisible_character(value: str) -> str | None:
    """The first control, bidirectional or other invisible character, described; None when there is none."""
    for char in value:
        if char in BIDI_CONTROLS:
            return f"a bidirectional formatting character ({code_point(char)}, which reorders the text)"
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return f"a control or invisible character ({code_point(char)})"
    return None


def _too_long(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"is {len(value):,} characters long; at most {limit:,} are allowed"
    return None


def _no_rule(value: str) -> str | None:
    return None


def _checked(
    value: str, limit: int, rule: Callable[[str], str | None] = _no_rule, *, invisible_advice: str = ""
) -> str:
    """`value` if it passes, in order: the length limit, no invisible character, then `rule`
    (which returns the problem or None); else ValueError naming the first problem."""
    problem = _too_long(value, limit)
    if problem is None:
        invisible = invisible_character(value)
        problem = f"contains {invisible}{invisible_advice}" if invisible is not None else rule(value)
    if problem:
        raise ValueError(problem)
    return value


def display_name(value: str) -> str:
    """Plain text of at most 200 characters: no control or bidirectional characters."""
    return _checked(value, MAX_DISPLAY_NAME_CHARS, invisible_advice="; use plain text")


def _scope_rule(value: str) -> str | None:
    if not value.isascii():
        return "must be ASCII (an OAuth scope is printable ASCII words separated by spaces)"
    if '"' in value or "\\" in value:
        return 'must not contain " or \\ (RFC 6749 leaves them out of scopes)'
    return None


def oauth_scope(value: str) -> str:
    """Printable ASCII words separated by spaces, as RFC 6749 defines a scope; at most 2,000 characters."""
    return _checked(value, MAX_SCOPE_CHARS, _scope_rule)


def _client_id_rule(value: str) -> str | None:
    if ":" in value:
        return "must not contain ':' (HTTP Basic auth separates the user from the secret with it)"
    if not is_latin1(value):
        return "must be latin-1 text (HTTP Basic auth sends it latin-1 encoded)"
    return None


def client_id(value: str) -> str:
    """An OAuth client id or Fusion user: at most 255 latin-1 characters, none invisible, no colon.

    Both are sent as the user of HTTP Basic auth (`user:secret`, latin-1), where a colon would move
    the rest of the id into the secret.
    """
    return _checked(value, MAX_CLIENT_ID_CHARS, _client_id_rule)


def _resource_path_rule(value: str) -> str | None:
    if not value.startswith("/") or any(char in value for char in " ?#") or not value.isascii():
        return (
            f"'{shown(value)}' is not a resource path "
            "(ASCII, starting with /, no spaces, query string or fragment)"
        )
    return None


def resource_path(value: str) -> str:
    """An absolute path of printable ASCII without spaces, query string or fragment."""
    return _checked(value, MAX_RESOURCE_PATH_CHARS, _resource_path_rule).rstrip("/")


def plain_text(value: str) -> str:
    """Any short text a person typed (a tag name): no control or bidirectional characters."""
    invisible = invisible_character(value)
    if invisible is not None:
        raise ValueError(f"contains {invisible}")
    return value


def is_latin1(value: str) -> bool:
    """Whether HTTP Basic auth (requests encodes user and password latin-1) can carry this text."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
