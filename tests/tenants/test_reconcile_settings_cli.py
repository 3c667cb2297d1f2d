"""The reconcile settings from `tenants add` and `tenants update`: set, kept, and refused in one line
naming the flag."""

from collections.abc import Callable

import pytest

from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import ADD_FLAGS, refusal_line

Run = Callable[..., CliResult]


def test_reconcile_settings_are_set_at_add_changed_at_update_and_kept_otherwise(
    cli: Run, registry: TenantRegistry
) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS, "--reconcile-schedule", "0 7 * * 2").code == 0
    settings = registry.get("acme").reconcile
    assert (settings.schedule.cron, settings.schedule.timezone) == ("0 7 * * 2", "UTC")
    assert (settings.repair, settings.restore_archived, settings.recreate_missing) == (False, False, True)

    flags = ["--reconcile-timezone", "Europe/Paris", "--max-drift-rate", "0.05", "--reconcile-repair"]
    assert cli("tenants", "update", "acme", *flags, "--restore-archived", "--no-recreate-missing").code == 0
    settings = registry.get("acme").reconcile
    assert (settings.schedule.cron, settings.schedule.timezone) == ("0 7 * * 2", "Europe/Paris")
    assert (settings.max_drift_rate, settings.repair) == (0.05, True)
    assert (settings.restore_archived, settings.recreate_missing) == (True, False)
    assert registry.get("acme").schedule.cron == "*/15 * * * *"  # the sync's schedule is its own

    assert cli("tenants", "update", "acme", "--no-reconcile-repair").code == 0
    assert registry.get("acme").reconcile.repair is False
    assert registry.get("acme").reconcile.restore_archived is True


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--reconcile-schedule", "every monday"),
        ("--reconcile-timezone", "Mars/Olympus"),
        ("--max-drift-rate", "2"),
    ],
)
def test_a_bad_reconcile_setting_is_refused_in_one_line_naming_its_flag(
    cli: Run, registry: TenantRegistry, flag: str, value: str
) -> None:
    result = cli("tenants", "add", "acme", *ADD_FLAGS, flag, value)
    assert flag in refusal_line(result)
    assert not registry.exists("acme")
