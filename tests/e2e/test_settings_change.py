"""Moving a synced tenant to another audience, through the real CLI, both sandboxes over HTTP and the
real Dagster job: refused while it would keep the old state; with --reset-state the next normal sync
fills the new audience with the members the old one got, and the old audience is left as it was."""

from collections import Counter
from collections.abc import Callable

from tests.fixtures.store import CliResult
from tests.fixtures.sync import SyncHarness
from tests.support.audiences import AudienceView, add_audience, audience_dump, members_by_email
from tests.support.expected import assert_audience_matches

Run = Callable[..., CliResult]


def test_a_new_audience_with_reset_state_is_loaded_fully_by_the_next_sync(
    sync_harness: SyncHarness, run_cli: Run
) -> None:
    h = sync_harness
    first = h.run()
    assert first.success
    list_a = h.mailchimp.config.list_id
    members_a = members_by_email(h.mailchimp, list_a)
    synced = h.store.members.count("acme")
    assert synced > 0 and h.store.marks.get("acme") is not None
    dump_a = audience_dump(h.mailchimp, list_a)
    list_b = add_audience(h.mailchimp, "Acme, moved")

    refused = run_cli("tenants", "update", "acme", "--mailchimp-list-id", list_b)
    assert refused.code == 2 and refused.out == "" and refused.err.count("\n") == 1, refused
    assert f"changing the Mailchimp list id ({list_a} -> {list_b})" in refused.err
    assert "add --reset-state" in refused.err
    assert h.registry.get("acme").mailchimp.list_id == list_a
    assert h.store.members.count("acme") == synced

    moved = run_cli("tenants", "update", "acme", "--mailchimp-list-id", list_b, "--reset-state")
    assert moved.code == 0, moved
    assert moved.out.strip().startswith(f"updated tenant acme; state reset: {synced} members, ")
    assert h.store.members.count("acme") == 0 and h.store.marks.get("acme") is None

    second = h.run()  # a normal, incremental sync
    assert second.success
    ledger = h.store.ledger.for_run("acme", second.run_id)
    assert len(ledger) == len(h.customers())  # every customer read again, none skipped as unchanged
    assert Counter(e.outcome for e in ledger)["unchanged"] == 0

    members_b = members_by_email(h.mailchimp, list_b)
    assert_audience_matches(AudienceView(h.mailchimp, list_b, h.customers))
    assert set(members_b) == set(members_a)
    for email, member in members_a.items():
        got = members_b[email]
        assert (got["status"], got["merge_fields"], set(got["tags"])) == (
            member["status"],
            member["merge_fields"],
            set(member["tags"]),
        ), email
    assert audience_dump(h.mailchimp, list_a) == dump_a  # the old audience was not touched
    assert h.store.members.count("acme") == synced
