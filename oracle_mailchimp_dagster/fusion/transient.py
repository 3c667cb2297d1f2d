"""Which Fusion answers are worth another attempt, and the status a given-up retry last saw."""

import requests

from oracle_mailchimp_dagster.http import RetryableFailure, looks_like_html


def transient_reason(response: requests.Response) -> str | None:
    """Which answers are worth another attempt: 408, 429, 5xx, and HTML pages where JSON belongs."""
    status = response.status_code
    if status in (408, 429) or status >= 500:
        return f"HTTP {status}" + (" (HTML page)" if looks_like_html(response) else "")
    if 200 <= status < 300 and looks_like_html(response):
        return f"HTML page with HTTP {status}"
    return None


def last_status(failure: RetryableFailure) -> int | None:
    """The HTTP status of the last attempt, None when it never got an answer (connect error, timeout)."""
    return failure.response.status_code if failure.response is not None else None
