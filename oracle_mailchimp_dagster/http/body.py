"""Read a streamed response body into memory, at most `cap` bytes of it.

The transport streams every response and reads it here, before any caller hook, so a server cannot
make a client buffer an unbounded body. The cap counts decoded bytes (a small gzip bomb is stopped
too); a Content-Length over the cap is refused before reading.
"""

from collections.abc import Callable
from typing import Any

import requests

from oracle_mailchimp_dagster.http.refusals import ResponseTooLarge

_CHUNK = 64 * 1024


def read_capped(response: requests.Response, cap: int) -> None:
    """Load the body (as `response.content`), or close the response and raise ResponseTooLarge."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        response.close()
        raise ResponseTooLarge(cap, int(declared))
    body = bytearray()
    for chunk in response.iter_content(chunk_size=_CHUNK):
        body += chunk
        if len(body) > cap:
            response.close()
            raise ResponseTooLarge(cap)
    response._content = bytes(body)


def capped_reader(cap: int) -> Callable[..., None]:
    """A response hook that reads the body with `read_capped`."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        read_capped(response, cap)

    return hook
