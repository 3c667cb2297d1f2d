"""`--oracle-extract-concurrency`: set at add and update, refused out of range in one line, and carried
by the Fusion client the Dagster resource builds for the tenant."""

from collections.abc import Callable

import pytest

from oracle_mailchimp_dagster.defs.resources import FusionResource
from oracle_mailchimp_dagster.fusion import FusionClient
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import ADD_FLAGS, refusal_line

Run = Callable[..., CliResult]


def client_concurrency(registry: TenantRegistry) -> int:
    client = FusionResource().client(registry.get("acme"), registry)
    assert isinstance(client, FusionClient)
    with client:
        return client.options.extract_concurrency


def test_the_flag_sets_the_tenant_setting_and_reaches_the_client(cli: Run, registry: TenantRegistry) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    assert registry.get("acme").oracle.extract_concurrency == 4
    assert client_concurrency(registry) == 4
    assert cli("tenants", "update", "acme", "--oracle-extract-concurrency", "1").code == 0
    assert registry.get("acme").oracle.extract_concurrency == 1
    assert client_concurrency(registry) == 1


@pytest.mark.parametrize("value", ["0", "17", "four"])
def test_out_of_range_is_refused_in_one_line(cli: Run, registry: TenantRegistry, value: str) -> None:
    result = cli("tenants", "add", "acme", *ADD_FLAGS, "--oracle-extract-concurrency", value)
    assert "--oracle-extract-concurrency" in refusal_line(result)
    assert not registry.exists("acme")
