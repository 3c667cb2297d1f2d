"""Which setting changes make stored sync state meaningless (a pure comparison), and how it is said."""

from typing import Any

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.tenants.model import mapping_with_company
from oracle_mailchimp_dagster.tenants.state_changes import (
    SettingChange,
    StateChangeRefused,
    key_data_center,
    state_affecting_changes,
)
from tests.support.tenant_samples import config

OAUTH = {"auth": "oauth"}


def names(changes: list[SettingChange]) -> list[str]:
    return [change.setting for change in changes]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"mailchimp": {"list_id": "z9y8x7w6v5"}}, "the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5)"),
        (
            {"oracle": {"base_url": "https://globex.fa.em2.oraclecloud.com"}},
            "the Oracle pod URL (https://acme.fa.us2.oraclecloud.com -> https://globex.fa.em2.oraclecloud.com)",
        ),
        (
            {"oracle": {"resource_path": "/crmRestApi/resources/latest/accounts"}},
            "the Oracle resource path (/crmRestApi/resources/11.13.18.05/accounts -> "
            "/crmRestApi/resources/latest/accounts)",
        ),
        (
            {"mailchimp": {"api_base": "http://127.0.0.1:18002/3.0"}},
            "the Mailchimp account (API base) (https://us6.api.mailchimp.com/3.0 -> http://127.0.0.1:18002/3.0)",
        ),
    ],
)
def test_each_setting_the_state_depends_on_is_named_with_both_values(
    overrides: dict[str, Any], expected: str
) -> None:
    changes = state_affecting_changes(
        config(), config(**overrides), old_data_center="us6", new_data_center="us6"
    )
    assert [str(change) for change in changes] == [expected]


@pytest.mark.parametrize(
    "overrides",
    [
        {"display_name": "Acme Renamed", "enabled": False},
        {"oracle": {"client_id": "other-client", "page_size": 100, "overlap_minutes": 30}},
        {"oracle": {"framework_version": "1", "auth": "basic", "token_url": None, "scope": None}},
        {"schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"}},
        {"policy": {"inactive_action": "archive", "status_if_new": "pending"}},
        {"mapping": mapping_with_company().model_dump()},
        # Case of the host and a trailing slash are the same pod.
        {"oracle": {"base_url": "https://ACME.fa.us2.oraclecloud.com/"}},
    ],
)
def test_other_settings_keep_the_state_meaningful(overrides: dict[str, Any]) -> None:
    assert state_affecting_changes(config(), config(**overrides)) == []


def test_a_new_api_key_is_another_account_only_in_another_data_center() -> None:
    same = config()
    assert state_affecting_changes(same, same, old_data_center="us6", new_data_center="us6") == []
    moved = state_affecting_changes(same, same, old_data_center="us6", new_data_center="us21")
    assert [str(change) for change in moved] == [
        "the Mailchimp account (API base) (https://us6.api.mailchimp.com/3.0 -> https://us21.api.mailchimp.com/3.0)"
    ]


def test_the_explicit_api_base_decides_over_the_key_data_center() -> None:
    sandbox = config(mailchimp={"api_base": "http://127.0.0.1:18002/3.0"})
    other_sandbox = config(mailchimp={"api_base": "http://127.0.0.1:18012/3.0"})
    # The sandbox's key may say any data center: the explicit base is where the audience lives.
    assert state_affecting_changes(sandbox, sandbox, old_data_center="us1", new_data_center="us9") == []
    assert names(state_affecting_changes(sandbox, other_sandbox)) == ["the Mailchimp account (API base)"]
    # Spelling out the base the key already implies is the same account.
    spelled = config(mailchimp={"api_base": "https://us6.api.mailchimp.com/3.0"})
    assert state_affecting_changes(config(), spelled, old_data_center="us6", new_data_center="us6") == []


def test_an_oauth_account_without_api_base_is_judged_by_its_list_id_alone() -> None:
    """An OAuth token's data center comes from Mailchimp's metadata endpoint: unknown offline."""
    oauth = config(mailchimp=OAUTH)
    assert state_affecting_changes(config(), oauth, old_data_center="us6") == []
    assert names(state_affecting_changes(oauth, config(mailchimp={**OAUTH, "list_id": "z9y8x7w6v5"}))) == [
        "the Mailchimp list id"
    ]


def test_several_changes_are_all_named_in_a_stable_order() -> None:
    new = config(
        mailchimp={"list_id": "z9y8x7w6v5"},
        oracle={"base_url": "https://globex.fa.em2.oraclecloud.com", "resource_path": "/x/accounts"},
    )
    assert names(state_affecting_changes(config(), new)) == [
        "the Mailchimp list id",
        "the Oracle pod URL",
        "the Oracle resource path",
    ]


def test_the_data_center_of_a_key_never_fails() -> None:
    assert key_data_center(SecretStr("0123456789abcdef0123456789abcdef-us6")) == "us6"
    assert key_data_center(SecretStr("not-a-key")) is None
    assert key_data_center(None) is None


def test_the_refusal_is_one_line_naming_the_setting_and_the_two_ways_on() -> None:
    [change] = state_affecting_changes(config(), config(mailchimp={"list_id": "z9y8x7w6v5"}))
    refused = StateChangeRefused([("acme", [change])])
    assert refused.explain(name_tenants=False) == (
        "changing the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5) makes the stored member state and mark "
        "meaningless for the new audience; add --reset-state to reset them (the next sync loads the audience "
        "fully), or leave the setting as it is"
    )
    assert str(refused).startswith("tenant 'acme': changing the Mailchimp list id")


def test_a_refusal_for_several_tenants_names_each_one() -> None:
    audience = state_affecting_changes(config(), config(mailchimp={"list_id": "z9y8x7w6v5"}))
    pod = state_affecting_changes(
        config("globex"), config("globex", oracle={"base_url": "https://globex.fa.em2.oraclecloud.com"})
    )
    message = str(StateChangeRefused([("acme", audience), ("globex", pod)]))
    assert "\n" not in message
    assert "tenant 'acme': changing the Mailchimp list id" in message
    assert "; tenant 'globex': changing the Oracle pod URL" in message and "for the new pod" in message
    assert message.endswith("or leave the settings as they are")
