"""`oracle.extract_concurrency`: a tenant setting (default 4, 1 to 16) that reaches the Fusion client's
options with the rest of the tenant's tuning."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from oracle_mailchimp_dagster.fusion import MAX_EXTRACT_CONCURRENCY, FusionClientOptions
from oracle_mailchimp_dagster.http import RetryPolicy
from oracle_mailchimp_dagster.tenants.client_settings import fusion_options_for
from oracle_mailchimp_dagster.tenants.errors import describe_validation_error
from oracle_mailchimp_dagster.tenants.model import OracleSettings
from tests.support.tenant_samples import config, settings


def test_the_default_is_four_and_it_is_described() -> None:
    tenant = config()
    assert tenant.oracle.extract_concurrency == 4 == FusionClientOptions().extract_concurrency
    description = OracleSettings.model_fields["extract_concurrency"].description or ""
    assert "at once" in description and str(MAX_EXTRACT_CONCURRENCY) in description


@pytest.mark.parametrize("value", [0, 17, -1])
def test_out_of_range_values_are_refused_naming_the_setting(value: int) -> None:
    with pytest.raises(ValidationError) as caught:
        config(oracle={"extract_concurrency": value})
    message = describe_validation_error(caught.value, "tenant 'acme'")
    assert message.startswith("invalid tenant 'acme': oracle.extract_concurrency: Input should be")
    assert "\n" not in message


def test_the_tenant_tuning_becomes_the_client_options() -> None:
    tenant = config(oracle={"extract_concurrency": 8, "page_size": 200, "overlap_minutes": 7})
    retry = RetryPolicy(max_attempts=3)
    options = fusion_options_for(tenant.oracle, retry=retry)
    assert (options.extract_concurrency, options.page_size, options.overlap) == (8, 200, timedelta(minutes=7))
    assert options.retry == retry
    assert fusion_options_for(config(oracle={"extract_concurrency": 1}).oracle).extract_concurrency == 1


def test_a_stored_tenant_without_the_setting_reads_with_the_default() -> None:
    data = settings()
    assert "extract_concurrency" not in data["oracle"]
    assert OracleSettings.model_validate(data["oracle"]).extract_concurrency == 4
