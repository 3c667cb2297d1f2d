"""Fixtures of the tenant CLI tests."""

from collections.abc import Callable

import pytest

from oracle_mailchimp_dagster.store import Database
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import MAILCHIMP_KEY_ENV, ORACLE_SECRET_ENV
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET


@pytest.fixture
def cli(
    cli_env: Database, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """`oracle-mailchimp` in-process on the test database, with the sample secrets in the environment
    variables `tests.support.cli_tenants.ADD_FLAGS` names."""
    monkeypatch.setenv(ORACLE_SECRET_ENV, ORACLE_SECRET)
    monkeypatch.setenv(MAILCHIMP_KEY_ENV, MAILCHIMP_KEY)
    return run_cli
