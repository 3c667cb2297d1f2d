"""Pure wire facts: API key format, data-center base URL, timestamps (member ids: `sync.identity`)."""

import re
from datetime import UTC, datetime

# `<32 lowercase hex>-<dc>`, e.g. 0123456789abcdef0123456789abcdef-us6.
_API_KEY = re.compile(r"^[0-9a-f]{32}-(?P<dc>[a-z]+[0-9]+)$")

MALFORMED_KEY_MESSAGE = (
    "malformed Mailchimp API key: expected 32 lowercase hex characters, a dash and a data-center "
    "suffix such as 'us6' (the key itself is not shown)"
)


class MalformedApiKey(ValueError):
    """The API key does not have Mailchimp's shape; the message never contains the key."""

    def __init__(self) -> None:
        super().__init__(MALFORMED_KEY_MESSAGE)


def data_center(api_key: str) -> str:
    """The data center (server prefix) an API key belongs to."""
    match = _API_KEY.fullmatch(api_key)
    if match is None:
        raise MalformedApiKey()
    return match.group("dc")


def api_base_for_dc(dc: str) -> str:
    return f"https://{dc}.api.mailchimp.com/3.0"


def api_base_from_endpoint(api_endpoint: str) -> str:
    """The OAuth metadata `api_endpoint` has no version segment; append it."""
    base = api_endpoint.rstrip("/")
    return base if base.endswith("/3.0") else base + "/3.0"


def iso_timestamp(value: datetime) -> str:
    """A filter timestamp as Mailchimp documents them (second precision, explicit offset)."""
    if value.tzinfo is None:
        raise ValueError("timestamps sent to Mailchimp must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="seconds")
