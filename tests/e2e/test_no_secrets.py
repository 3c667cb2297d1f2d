"""No credential reaches Dagster's event log, run config, tags, metadata or any captured log line."""

import logging

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.store.records import SecretName
from tests.fixtures.sync import SyncHarness, failure_text


def everything_dagster_kept(h: SyncHarness, run_id: str) -> str:
    run = h.instance.get_run_by_id(run_id)
    assert run is not None
    parts = [repr(run.run_config), repr(run.tags)]
    for entry in h.instance.all_logs(run_id):
        parts.append(repr(entry))
    return "\n".join(parts)


def test_no_secret_in_event_log_metadata_or_logs(
    sync_harness: SyncHarness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    h = sync_harness
    api_key = h.mailchimp.config.api_key
    oracle_secret = h.fusion.config.client_secret.get_secret_value()
    secrets = [api_key, api_key.split("-")[0], oracle_secret]
    caplog.set_level(logging.DEBUG)
    good = h.run()
    assert good.success

    wrong_secret = "wrong-oracle-secret-d3adb33f"
    tenant = h.registry.get("acme")
    h.registry.update(tenant, {SecretName.ORACLE_CLIENT_SECRET: SecretStr(wrong_secret)})
    h.fusion_control("POST", "/tokens/expire", json={})
    bad = h.run()
    assert not bad.success
    assert "Oracle Fusion tenant 'acme'" in failure_text(bad)

    kept = everything_dagster_kept(h, good.run_id) + everything_dagster_kept(h, bad.run_id)
    out, err = capsys.readouterr()
    for text in (kept, caplog.text, out, err):
        for secret in [*secrets, wrong_secret]:
            assert secret not in text
