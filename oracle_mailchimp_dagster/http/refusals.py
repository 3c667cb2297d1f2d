"""Answers the transport refuses to pass on: redirects and bodies over the size cap. Never retried.

Both are configuration problems (a wrong base URL, a cap too small for the pages asked for), so the
clients turn them into their configuration errors with a hint of what to check. The messages name a
host and a size, never a URL with its path, query or userinfo.
"""

MIB = 1024 * 1024


class TransportRefusal(Exception):
    """The transport stopped a request on purpose; retrying would get the same answer."""


class RedirectRefused(TransportRefusal):
    """The server answered 3xx. Redirects are never followed: a 307 would re-send a token request's
    body (and, to the same host, its credentials) wherever the server points."""

    def __init__(self, status: int, target_host: str | None) -> None:
        where = f"redirected to {target_host}" if target_host else "answered with a redirect"
        super().__init__(f"the server {where} (HTTP {status}; redirects are not followed)")
        self.status = status
        self.target_host = target_host


class ResponseTooLarge(TransportRefusal):
    """The answer's body is (or says it is) larger than the cap; reading stopped at the cap."""

    def __init__(self, cap_bytes: int, declared_bytes: int | None = None) -> None:
        size = f"{declared_bytes} bytes" if declared_bytes is not None else "more bytes"
        super().__init__(
            f"the answer ({size}) exceeds the response size cap of {describe_size(cap_bytes)} "
            "(max_response_bytes)"
        )
        self.cap_bytes = cap_bytes
        self.declared_bytes = declared_bytes


def describe_size(n: int) -> str:
    """`64 MiB`, `1.5 MiB`, `512 bytes`: a cap as a person reads it."""
    if n >= MIB:
        return f"{n / MIB:g} MiB"
    if n >= 1024:
        return f"{n / 1024:g} KiB"
    return f"{n} bytes"
