"""Client settings shared by the client tests: real backoff and timeouts, short enough for tests."""

from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts

# Retries in tests: real backoff, but short, so a retried call costs milliseconds.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_backoff_s=0.01, max_backoff_s=0.05, max_total_s=10.0)
FAST_TIMEOUTS = Timeouts(connect_s=2.0, read_s=10.0)
