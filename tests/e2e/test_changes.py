"""After each kind of change in Oracle (and a contact's own unsubscribe in Mailchimp), a run leaves
the audience as it should be, resubscribes no one and costs nothing for unchanged customers."""

from tests.fixtures.sync import SyncHarness, metadata_value
from tests.support.expected import assert_audience_matches, expected_members
from tests.support.scenario import sole_holders

WRITE_ROUTES = {"POST /3.0/lists/{list_id}", "PUT /3.0/lists/{list_id}/members/{ref}"}


def test_new_changed_moved_inactive_and_unsubscribed_customers(sync_harness: SyncHarness) -> None:
    h = sync_harness
    assert h.run().success
    modified, moved, inactive, unsubscriber = sole_holders(h.customers(), 4)
    list_id = h.mailchimp.config.list_id

    h.fusion_control(
        "POST",
        "/customers",
        json={
            "OrganizationName": "Brand New Widgets GmbH",
            "EmailAddress": "hello@brandnew-widgets.io",
            "PartyStatus": "A",
            "Type": "ZCA_PROSPECT",
            "CustomerClassCode": "SMB",
        },
    )
    h.fusion_control(
        "PATCH", f"/customers/{modified['PartyNumber']}", json={"OrganizationName": "Renamed Corp"}
    )
    h.fusion_control(
        "PATCH", f"/customers/{moved['PartyNumber']}", json={"EmailAddress": "moved.here@acme-new.io"}
    )
    h.fusion_control("POST", f"/customers/{inactive['PartyNumber']}/inactivate")
    # The contact unsubscribes in Mailchimp; then Oracle changes the customer, so the sync upserts it.
    h.mailchimp_control(
        "POST", f"/lists/{list_id}/members/{unsubscriber['EmailAddress'].lower()}/unsubscribe"
    )
    h.fusion_control(
        "PATCH", f"/customers/{unsubscriber['PartyNumber']}", json={"OrganizationName": "Still Here"}
    )

    result = h.run()
    assert result.success
    members = h.members()
    expected = expected_members(h.customers())
    assert members["hello@brandnew-widgets.io"]["tags"] == ["segment:SMB", "type:prospect"] or set(
        members["hello@brandnew-widgets.io"]["tags"]
    ) == {"segment:SMB", "type:prospect"}
    assert members[modified["EmailAddress"].lower()]["merge_fields"]["COMPANY"] == "Renamed Corp"
    # The email change moved the member: no duplicate, no orphan. Mailchimp changes addresses of
    # subscribed members only, so this transactional one was re-created and the old one archived.
    assert members[moved["EmailAddress"].lower()]["status"] == "archived"
    assert (
        members["moved.here@acme-new.io"]["merge_fields"]["COMPANY"]
        == expected["moved.here@acme-new.io"]["company"]
    )
    # Inactive: unsubscribed (the default policy), not deleted.
    assert members[inactive["EmailAddress"].lower()]["status"] == "unsubscribed"
    # Never resubscribed, yet its data is current.
    kept = members[unsubscriber["EmailAddress"].lower()]
    assert kept["status"] == "unsubscribed"
    assert kept["merge_fields"]["COMPANY"] == "Still Here"

    ledger = {e.customer_key: e for e in h.store.ledger.for_run("acme", result.run_id)}
    assert ledger[moved["PartyNumber"]].outcome == "email_changed"
    assert ledger[inactive["PartyNumber"]].outcome == "unsubscribed"
    assert ledger[modified["PartyNumber"]].outcome == "updated"

    active = {e: m for e, m in members.items() if m["status"] not in ("unsubscribed", "archived")}
    assert set(active) == set(expected) - {unsubscriber["EmailAddress"].lower()}


def test_unchanged_customers_cost_no_mailchimp_request(sync_harness: SyncHarness) -> None:
    h = sync_harness
    assert h.run().success
    h.mailchimp_control("POST", "/stats/reset")
    result = h.run(full=True)  # every customer read again, none changed
    assert result.success
    routes = set(h.mailchimp_control("GET", "/stats")["requests_by_route"])
    assert routes == {"GET /3.0/lists/{list_id}/merge-fields"}
    assert metadata_value(result, "mailchimp_members", "action_skip_unchanged") > 200
    assert metadata_value(result, "mailchimp_members", "action_upsert") == 0
    assert_audience_matches(h)


def test_dry_run_plans_everything_and_writes_nothing(sync_harness: SyncHarness) -> None:
    h = sync_harness
    result = h.run(dry_run=True)
    assert result.success
    assert h.members() == {}
    assert h.store.marks.get("acme") is None
    assert h.store.ledger.for_run("acme", result.run_id) == []
    assert metadata_value(result, "mailchimp_sync_results", "dry_run") is True
    assert metadata_value(result, "mailchimp_sync_results", "outcome_planned") > 200
