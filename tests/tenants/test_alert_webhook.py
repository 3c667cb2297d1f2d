"""A tenant's alert webhook URL: given directly, by variable, stdin, env file or YAML, stored encrypted, never
printed (only its host), kept across updates, removed on request, and a bad one refused in one line."""

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets import SecretDecryptionError
from oracle_mailchimp_dagster.store import Database, SecretName
from oracle_mailchimp_dagster.store.schema import tenant_secrets
from oracle_mailchimp_dagster.tenants import TenantRegistry
from oracle_mailchimp_dagster.tenants.secret_rules import secret_problem
from tests.fixtures.store import CliResult, dump_database
from tests.support.cli_tenants import ADD_FLAGS, MAILCHIMP_KEY_ENV, ORACLE_SECRET_ENV, refusal_line
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, PLAINTEXTS

Run = Callable[..., CliResult]
TOKEN = "Zz9SeCrEtW3bh00kT0ken"
WEBHOOK = f"https://hooks.slack.com/services/T0AAA0AAA/B0BBB0BBB/{TOKEN}"
OTHER_TOKEN = "0therT0kenAbCdEf1234"
OTHER = f"https://chat.example.com/v1/spaces/AAA/messages?key=k&token={OTHER_TOKEN}"


@pytest.fixture
def cli(cli_env: Database, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv(ORACLE_SECRET_ENV, ORACLE_SECRET)
    monkeypatch.setenv(MAILCHIMP_KEY_ENV, MAILCHIMP_KEY)
    monkeypatch.setenv("ACME_HOOK", WEBHOOK)
    return run_cli


def never_shown(*results: CliResult) -> None:
    for result in results:
        for secret in (*PLAINTEXTS, WEBHOOK, TOKEN, OTHER_TOKEN):
            assert secret not in result.output, result


def test_add_show_list_update_and_remove_the_webhook(
    cli: Run, registry: TenantRegistry, db: Database
) -> None:
    added = cli("tenants", "add", "acme", *ADD_FLAGS, "--alert-webhook-url-env", "ACME_HOOK")
    assert added.code == 0, added
    assert ", alerts to hooks.slack.com" in added.out.splitlines()[0]
    assert registry.alert_webhook("acme") is not None
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == WEBHOOK
    assert TOKEN not in dump_database(db)  # encrypted like the other credentials

    shown = cli("tenants", "show", "acme")
    assert "#   alert_webhook_url: key " in shown.out and "posts to hooks.slack.com" in shown.out
    as_json = yaml.safe_load(cli("tenants", "show", "acme", "--json").out)
    (hook,) = [s for s in as_json["secrets"] if s["name"] == "alert_webhook_url"]
    assert hook["host"] == "hooks.slack.com"
    listed = cli("tenants", "list")
    assert listed.out.splitlines()[1].split()[-1] == "webhook"

    kept = cli("tenants", "update", "acme", "--schedule", "*/5 * * * *")
    assert kept.out.strip() == "updated tenant acme"
    assert registry.alert_webhook_set("acme")

    replaced = cli("tenants", "update", "acme", "--alert-webhook-url-stdin", stdin=OTHER + "\n")
    assert replaced.out.strip() == "updated tenant acme (new alert_webhook_url)"
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == OTHER
    assert "posts to chat.example.com" in cli("tenants", "show", "acme").out

    removed = cli("tenants", "update", "acme", "--no-alert-webhook")
    assert removed.out.strip() == "updated tenant acme; alert webhook removed"
    assert not registry.alert_webhook_set("acme") and registry.alert_webhook("acme") is None
    assert {i.name for i in registry.secret_info("acme")} == {
        SecretName.ORACLE_CLIENT_SECRET,
        SecretName.MAILCHIMP_API_KEY,
    }
    again = cli("tenants", "update", "acme", "--no-alert-webhook")
    assert again.out.strip() == "updated tenant acme; it had no alert webhook"
    assert cli("tenants", "list").out.splitlines()[1].split()[-1] == "-"
    never_shown(added, shown, listed, kept, replaced, removed, again)


BAD_URLS = [
    (f"http://hooks.slack.com/services/{TOKEN}", "it must use https"),
    (f"https://user:{TOKEN}@hooks.slack.com/x", "userinfo"),
    (f"https://10.1.2.3/services/{TOKEN}", "host 10.1.2.3 is a private-range address"),
    (f"https://169.254.169.254/latest/{TOKEN}", "cloud metadata"),
    (f"https://xn--hoks-slack-9ab.com/services/{TOKEN}", "punycode"),
    (f"https://hooks.slack.com/services/{TOKEN}#frag", "fragment"),
    (f"ftp://hooks.slack.com/{TOKEN}", "not an absolute http(s) URL"),
    (f" https://hooks.slack.com/services/{TOKEN}", "leading or trailing whitespace"),
    (f"https://hooks.slack.com/services/{TOKEN}\u202e", "control or invisible character"),
    (f"https://hooks.slack.com:99999/services/{TOKEN}", "port '99999' is not a number from 1 to 65535"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_the_webhook_rules_name_the_problem_never_the_url(url: str, problem: str) -> None:
    found = secret_problem(SecretName.ALERT_WEBHOOK_URL, SecretStr(url))
    assert found is not None and problem in found and found.startswith("the alert webhook URL")
    assert TOKEN not in found and url.strip() not in found


@pytest.mark.parametrize(("url", "problem"), BAD_URLS[:2])
def test_a_bad_webhook_url_is_refused_in_one_line_that_never_shows_it(
    cli: Run, registry: TenantRegistry, monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("BAD_HOOK", url)
    result = cli("tenants", "add", "acme", *ADD_FLAGS, "--alert-webhook-url-env", "BAD_HOOK")
    line = refusal_line(result, url, TOKEN)
    assert line.startswith("oracle-mailchimp: --alert-webhook-url-env BAD_HOOK: the alert webhook URL")
    assert problem in line
    assert not registry.exists("acme")
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    refused = cli("tenants", "update", "acme", "--alert-webhook-url-stdin", stdin=url + "\n")
    assert problem in refusal_line(refused, url, TOKEN)
    assert not registry.alert_webhook_set("acme")


def test_loopback_http_is_allowed_for_a_local_receiver(cli: Run, registry: TenantRegistry) -> None:
    local = f"http://127.0.0.1:8123/services/{TOKEN}"
    assert cli("tenants", "add", "acme", *ADD_FLAGS, "--alert-webhook-url-stdin", stdin=local).code == 0
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == local


def test_the_url_may_be_given_directly_and_is_still_never_shown(cli: Run, registry: TenantRegistry) -> None:
    """`--alert-webhook-url URL` as the issue names it; its help steers to -env/-stdin (shell history)."""
    added = cli("tenants", "add", "acme", *ADD_FLAGS, "--alert-webhook-url", WEBHOOK)
    assert added.code == 0, added
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == WEBHOOK
    updated = cli("tenants", "update", "acme", "--alert-webhook-url", OTHER)
    assert updated.code == 0, updated
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == OTHER
    bad = cli("tenants", "update", "acme", "--alert-webhook-url", f"ftp://hooks.example.com/{TOKEN}")
    assert refusal_line(bad, TOKEN).startswith("oracle-mailchimp: --alert-webhook-url: the alert webhook URL")
    twice = cli(
        "tenants", "update", "acme", "--alert-webhook-url", WEBHOOK, "--alert-webhook-url-env", "ACME_HOOK"
    )
    assert "give the alert webhook URL once" in refusal_line(twice, TOKEN)
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == OTHER
    never_shown(added, updated, bad, twice, cli("tenants", "show", "acme"), cli("tenants", "list"))


def test_conflicting_webhook_flags_are_refused_in_one_line(cli: Run, registry: TenantRegistry) -> None:
    both = cli(
        "tenants",
        "add",
        "acme",
        *ADD_FLAGS,
        "--alert-webhook-url-env",
        "ACME_HOOK",
        "--alert-webhook-url-stdin",
    )
    assert "give the alert webhook URL once" in refusal_line(both)
    two_stdin = cli(
        "tenants", "add", "acme", *ADD_FLAGS[:-2], "--mailchimp-api-key-stdin", "--alert-webhook-url-stdin"
    )
    assert "only one secret can come from standard input" in refusal_line(two_stdin)
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    given_and_removed = cli(
        "tenants", "update", "acme", "--alert-webhook-url-env", "ACME_HOOK", "--no-alert-webhook"
    )
    assert "do not also give one" in refusal_line(given_and_removed)
    unset = cli("tenants", "update", "acme", "--alert-webhook-url-env", "NOT_SET_ANYWHERE")
    assert "environment variable NOT_SET_ANYWHERE is not set or empty" in refusal_line(unset)
    assert not registry.alert_webhook_set("acme")


def test_the_env_file_may_give_the_webhook(cli: Run, registry: TenantRegistry, tmp_path: Path) -> None:
    env_file = tmp_path / "acme.env"
    env_file.write_text(f"ALERT_WEBHOOK_URL={WEBHOOK}\n", encoding="utf-8")
    result = cli("tenants", "add", "acme", *ADD_FLAGS, "--env-file", str(env_file))
    assert result.code == 0, result
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == WEBHOOK
    never_shown(result)


def _yaml(tmp_path: Path, alerts: object | None) -> Path:
    entry: dict[str, object] = {
        "id": "acme",
        "oracle": {
            "base_url": "https://acme.fa.us2.oraclecloud.com",
            "token_url": "https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token",
            "scope": "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all",
            "client_id": "acme-client",
            "client_secret_env": ORACLE_SECRET_ENV,
        },
        "mailchimp": {"list_id": "a1b2c3d4e5", "api_key_env": MAILCHIMP_KEY_ENV},
        "policy": {"status_if_new": "transactional"},
    }
    if alerts is not None:
        entry["alerts"] = alerts
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": [entry]}), encoding="utf-8")
    return path


def test_import_sets_keeps_and_removes_the_webhook(
    cli: Run, registry: TenantRegistry, tmp_path: Path
) -> None:
    created = cli("tenants", "import", str(_yaml(tmp_path, {"webhook_url_env": "ACME_HOOK"})))
    assert created.code == 0, created
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == WEBHOOK
    kept = cli("tenants", "import", str(_yaml(tmp_path, None)))
    assert kept.code == 0 and registry.alert_webhook_set("acme")
    removed = cli("tenants", "import", str(_yaml(tmp_path, {"webhook_url_env": None})))
    assert removed.code == 0 and not registry.alert_webhook_set("acme")
    never_shown(created, kept, removed)


@pytest.mark.parametrize(
    ("alerts", "problem"),
    [
        (
            {"webhook_url_env": "BAD_HOOK"},
            "alerts.webhook_url_env (BAD_HOOK): the alert webhook URL is refused: ",
        ),
        ({"webhook_url": WEBHOOK}, "alerts must be {webhook_url_env: VARIABLE}"),
        (
            {"webhook_url_env": "NOT_SET_ANYWHERE"},
            "alerts.webhook_url_env names NOT_SET_ANYWHERE, which is not",
        ),
    ],
)
def test_import_refuses_a_bad_webhook_by_its_yaml_key(
    cli: Run,
    registry: TenantRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alerts: object,
    problem: str,
) -> None:
    monkeypatch.setenv("BAD_HOOK", f"http://hooks.slack.com/services/{TOKEN}")
    result = cli("tenants", "import", str(_yaml(tmp_path, alerts)))
    assert problem in refusal_line(result, WEBHOOK, TOKEN)
    assert not registry.exists("acme")


def test_the_webhook_survives_key_rotation_and_is_sealed_to_its_tenant(
    cli: Run, registry: TenantRegistry, db: Database
) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS, "--alert-webhook-url-env", "ACME_HOOK").code == 0
    rotated = cli("keys", "rotate")
    assert rotated.code == 0, rotated
    assert "re-encrypted 3 secret(s)" in rotated.out
    assert registry.secret("acme", SecretName.ALERT_WEBHOOK_URL).get_secret_value() == WEBHOOK
    assert cli("tenants", "add", "globex", *ADD_FLAGS).code == 0
    with db.write() as conn:  # the row copied to another tenant in the database is not accepted there
        row = conn.execute(
            sa.select(tenant_secrets).where(
                tenant_secrets.c.tenant_id == "acme", tenant_secrets.c.name == "alert_webhook_url"
            )
        ).one()
        conn.execute(sa.insert(tenant_secrets).values({**row._mapping, "tenant_id": "globex"}))
    with pytest.raises(SecretDecryptionError, match="sealed for another tenant"):
        registry.alert_webhook("globex")
    never_shown(rotated)
