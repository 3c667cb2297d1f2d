"""Sizes for the load tests: small in `make test`, the full load in `make load`.

A load test (marked `load`) proves the same property at either size; the small one keeps `make test`
quick, the full one (ORACLE_MAILCHIMP_TEST_LOAD=full, as `make load` sets it) shows it holds at scale.
"""

import os

LOAD_ENV = "ORACLE_MAILCHIMP_TEST_LOAD"


def full_load() -> bool:
    return os.environ.get(LOAD_ENV, "").strip().lower() == "full"


def load_size(small: int, full: int) -> int:
    """`full` under `make load`, `small` otherwise."""
    return full if full_load() else small
