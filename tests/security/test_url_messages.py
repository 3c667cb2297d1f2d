"""A URL with userinfo is refused without echoing its password, in the model and through the CLI."""

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from oracle_mailchimp_dagster.fusion import FusionBasicAuth, FusionConnection
from oracle_mailchimp_dagster.mailchimp import MailchimpConnection
from oracle_mailchimp_dagster.store import Database
from tests.fixtures.store import CliResult
from tests.support.tenant_samples import config

PASSWORD = "TOPSECRETPW"


@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{PASSWORD}@acme.fa.us2.oraclecloud.com",  # must use https
        f"ftp://user:{PASSWORD}@acme.fa.us2.oraclecloud.com",  # not an http(s) URL
        f"https://acme.fa.us2.oraclecloud.com/?access_token={PASSWORD}",  # query string
    ],
)
def test_url_messages_never_echo_a_password(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        config(oracle={"base_url": url})
    # The messages (what describe_validation_error prints); pydantic's own str() also shows the input.
    messages = " ".join(error["msg"] for error in caught.value.errors(include_input=False))
    assert PASSWORD not in messages, messages
    assert "acme.fa.us2.oraclecloud.com" in messages, "the message still names the URL"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tenants_add_names_the_url_without_its_password(
    cli_env: Database, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORACLE_SECRET", "x-oracle-secret")
    monkeypatch.setenv("MAILCHIMP_KEY", "0123456789abcdef0123456789abcdef-us6")
    result = run_cli(
        "tenants", "add", "acme", "--status-if-new", "transactional",
        "--oracle-base-url", f"http://user:{PASSWORD}@acme.example.com",
        "--oracle-token-url", "https://idcs.example.com/oauth2/v1/token",
        "--oracle-scope", "s", "--oracle-client-id", "c",
        "--oracle-client-secret-env", "ORACLE_SECRET",
        "--mailchimp-list-id", "a1b2c3d4e5", "--mailchimp-api-key-env", "MAILCHIMP_KEY",
    )  # fmt: skip
    assert result.code != 0
    assert "must use https" in result.err and "user:**********@acme.example.com" in result.err, result
    assert PASSWORD not in result.output


@pytest.mark.parametrize("userinfo", [f"user:{PASSWORD}@", f"{PASSWORD}@"])
def test_client_settings_refuse_userinfo_without_showing_it(userinfo: str) -> None:
    """Client settings built directly (not from a tenant) refuse it too, so no repr can show it."""
    url = f"https://{userinfo}pod.example.com"
    attempts = [
        lambda: FusionConnection(
            tenant="acme", base_url=url, auth=FusionBasicAuth(username="u", password="p")
        ),
        lambda: MailchimpConnection(oauth_token="t0ken", api_base=url + "/3.0"),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as caught:
            attempt()
        assert "must not contain credentials" in str(caught.value)
        assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
