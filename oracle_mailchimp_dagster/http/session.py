"""One pooled `requests.Session` per client: keep-alive connections sized for its concurrency."""

import requests

from oracle_mailchimp_dagster import __version__
from oracle_mailchimp_dagster.http.deadline import DeadlineAdapter

USER_AGENT = f"oracle-mailchimp-dagster/{__version__}"


def build_session(pool_maxsize: int = 10, user_agent: str = USER_AGENT) -> requests.Session:
    """A session whose pool holds `pool_maxsize` connections per host and never retries on its own.

    Retries are the transport's job (bounded, with backoff); urllib3's own are switched off so a
    failure is never retried twice over. Its connections honour the transport's per-attempt deadline.
    """
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
