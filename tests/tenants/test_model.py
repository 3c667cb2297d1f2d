"""The tenant model: defaults from the reference, and a clear message for every kind of bad input."""

import pytest
from pydantic import ValidationError

from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.sync.rules import InactiveAction, StatusIfNew, SyncPolicy
from oracle_mailchimp_dagster.tenants import TenantConfig
from oracle_mailchimp_dagster.tenants.errors import describe_validation_error
from tests.support.tenant_samples import config, settings


def problem(**overrides: object) -> str:
    with pytest.raises(ValidationError) as caught:
        config(**overrides)  # type: ignore[arg-type]
    message = describe_validation_error(caught.value, "tenant 'acme'")
    assert "\n" not in message
    return message


def test_defaults_follow_the_reference() -> None:
    tenant = config()
    assert tenant.oracle.resource_path == "/crmRestApi/resources/11.13.18.05/accounts"
    assert tenant.oracle.framework_version == "2"
    assert (tenant.oracle.overlap_minutes, tenant.oracle.page_size) == (5, 500)
    assert (tenant.schedule.cron, tenant.schedule.timezone) == ("*/15 * * * *", "UTC")
    assert tenant.policy.status_if_new is StatusIfNew.TRANSACTIONAL
    assert tenant.policy.inactive_action is InactiveAction.UNSUBSCRIBE
    assert tenant.policy.retry_max_attempts == 5
    assert set(tenant.mapping.merge_fields) == {"FNAME", "LNAME", "PHONE", "ADDRESS"}
    assert [rule.prefix for rule in tenant.mapping.tag_rules] == ["segment:", "type:"]
    assert tenant.enabled
    assert tenant.required_secrets() == (SecretName.ORACLE_CLIENT_SECRET, SecretName.MAILCHIMP_API_KEY)


def test_the_policy_is_the_planners_policy() -> None:
    assert isinstance(config().policy, SyncPolicy)


def test_stored_config_round_trips() -> None:
    tenant = config(enabled=False, policy={"inactive_action": "archive", "max_removals": 10})
    stored = tenant.stored_config()
    assert "id" not in stored and "enabled" not in stored
    assert TenantConfig.from_stored(tenant.id, tenant.display_name, tenant.enabled, stored) == tenant


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:8000/"])
def test_plain_http_is_allowed_for_loopback_only(url: str) -> None:
    assert config(oracle={"base_url": url}).oracle.base_url == url.rstrip("/")
    message = problem(oracle={"base_url": "http://acme.fa.us2.oraclecloud.com"})
    assert message == (
        "invalid tenant 'acme': oracle.base_url: 'http://acme.fa.us2.oraclecloud.com' must use https "
        "(plain http is allowed only for localhost, 127.0.0.1 and ::1)"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"id": "Acme Corp"}, "id: 'Acme Corp' is not a tenant id"),
        (
            {"oracle": {"base_url": "acme.example.com"}},
            "oracle.base_url: 'acme.example.com' is not an absolute",
        ),
        (
            {"oracle": {"token_url": "https://x/t?a=1"}},
            "oracle.token_url: 'https://x/t?a=1' must not have a query",
        ),
        ({"oracle": {"base_url": "https://u:pw@pod.example"}}, "must not contain credentials"),
        ({"oracle": {"scope": None}}, "oracle: oauth needs scope (or use auth basic)"),
        ({"oracle": {"framework_version": "v2"}}, "'v2' is not a REST framework version"),
        ({"oracle": {"page_size": 900}}, "oracle.page_size: Input should be less than or equal to 500"),
        ({"mailchimp": {"list_id": "a b"}}, "mailchimp.list_id: 'a b' is not a Mailchimp audience id"),
        (
            {"schedule": {"cron": "*/15 * * *"}},
            "schedule.cron: '*/15 * * *' is not a 5-field cron expression",
        ),
        (
            {"schedule": {"cron": "61 * * * *"}},
            "schedule.cron: '61 * * * *' is not a 5-field cron expression",
        ),
        (
            {"schedule": {"timezone": "Mars/Olympus"}},
            "schedule.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        ({"policy": {"inactive_action": "explode"}}, "policy.inactive_action: 'explode' is not one of"),
        ({"policy": {"status_if_new": "cleaned"}}, "policy.status_if_new: 'cleaned' is not one of"),
        (
            {"policy": {"max_removal_share": 1.5}},
            "policy.max_removal_share: Input should be less than or equal to 1",
        ),
        ({"policy": {"inactve_action": "archive"}}, "policy.inactve_action: unknown setting"),
        ({"mapping": {"merge_fields": {"fname": "X"}}}, "merge tag 'fname' must be 1-10 upper-case"),
        (
            {"mapping": {"tag_rules": [{"attribute": "Type", "prefx": "t:"}]}},
            "unknown tag rule setting prefx",
        ),
    ],
)
def test_bad_values_get_one_clear_line(overrides: dict[str, object], expected: str) -> None:
    assert expected in problem(**overrides)


def test_several_problems_are_reported_together() -> None:
    message = problem(schedule={"cron": "nope", "timezone": "Nowhere/Town"}, mailchimp={"list_id": "!"})
    assert message.count(";") == 2


def test_basic_auth_needs_no_token_endpoint_and_uses_a_password() -> None:
    tenant = config(oracle={"auth": "basic", "token_url": None, "scope": None})
    assert tenant.oracle.secret_name is SecretName.ORACLE_PASSWORD


def test_mailchimp_oauth_uses_a_token() -> None:
    assert config(mailchimp={"auth": "oauth"}).mailchimp.secret_name is SecretName.MAILCHIMP_OAUTH_TOKEN


def test_display_name_defaults_to_the_id() -> None:
    data = settings()
    del data["display_name"]
    assert TenantConfig.model_validate(data).display_name == "acme"
