"""Poison rows over real HTTP (issue 9): the sandbox sends malformed values, the client quarantines those
rows with a reason naming the attribute and reads every other one; the cursor passes them. An unusable
keyset value stops the read with a typed error naming the record."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from oracle_mailchimp_dagster.fusion import FusionKeysetError, QuarantinedRow
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode, extract_customers
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_actions
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.sync.model import Action
from tests.fixtures.fusion import FusionSandboxFactory
from tests.support.fusion_clients import (
    all_customers,
    control,
    fusion_client,
    malform,
    oauth_connection,
    ordered_keys,
    sandbox_now,
)

# Five kinds of malformed value for non-keyset attributes, and the reason each row is quarantined for.
KINDS: list[tuple[str, Any, str]] = [
    ("PostalCode", 94065, "PostalCode: expected a string, got a number (94065)"),
    (
        "EmailAddress",
        ["ap@acme.example", "ar@acme.example"],
        'EmailAddress: expected a string, got a list (["ap@acme.example","ar@acme.example"])',
    ),
    (
        "OrganizationName",
        {"name": "Acme"},
        'OrganizationName: expected a string, got an object ({"name":"Acme"})',
    ),
    ("PartyStatus", True, "PartyStatus: expected a string, got a boolean (true)"),
    ("CreationDate", 1710148462, "CreationDate: expected an ISO 8601 timestamp, got a number (1710148462)"),
]
# Where they sit in keyset order with pages of 50: first row, a page's last and the next page's first
# row, one inside a page, and the very last row (the cursor must end on it).
POSITIONS = [0, 49, 50, 120, -1]


def poisoned(sandbox: RunningFusionSandbox) -> tuple[list[tuple[datetime, int]], dict[int, QuarantinedRow]]:
    """Malform five customers, one per kind; returns the keyset order and the rows expected in quarantine."""
    customers = all_customers(sandbox)
    order = ordered_keys(customers)
    expected: dict[int, QuarantinedRow] = {}
    for position, (attribute, value, reason) in zip(POSITIONS, KINDS, strict=True):
        stamp, party_id = order[position]
        number = customers[party_id]["PartyNumber"]
        malform(sandbox, [number], attribute, value)
        expected[party_id] = QuarantinedRow(party_id, stamp, number, (attribute,), reason)
    return order, expected


@pytest.mark.parametrize("framework_version", [1, 2])
def test_malformed_rows_are_quarantined_and_paged_past(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory()
    order, expected = poisoned(sandbox)
    client = fusion_client(oauth_connection(sandbox, framework_version), page_size=50)
    until = sandbox_now(sandbox) + timedelta(seconds=1)
    extraction = client.extract_customers(until=until)
    rows = list(extraction)
    # Slices read concurrently interleave: each row once, in keyset order within its slice.
    assert sorted((r.last_update_date, r.party_id) for r in rows) == [
        k for k in order if k[1] not in expected
    ]
    by_key = sorted(extraction.quarantined, key=lambda q: (q.last_update_date, q.party_id))
    assert by_key == [expected[pid] for _, pid in order if pid in expected]
    assert (extraction.stats.get("records"), extraction.stats.get("quarantined")) == (195, 5)
    assert (
        extraction.cursor is not None
        and (extraction.cursor.last_update_date, extraction.cursor.party_id) == (order[-1])
    ), "the cursor ends on the last row, a quarantined one"

    again = client.extract_customers(after=extraction.cursor, overlap=timedelta(0), until=until)
    assert (list(again), again.quarantined) == ([], ()), "nothing is read twice"

    fixed = expected[order[-1][1]]
    control(sandbox, "PATCH", f"/customers/{fixed.party_number}", json={"City": "Fixed"})
    later = client.extract_customers(after=extraction.cursor, overlap=timedelta(0))
    (back,) = list(later)
    assert (back.party_number, back.city, later.quarantined) == (fixed.party_number, "Fixed", ())
    assert back.last_update_date > fixed.last_update_date, "it comes back when Oracle changes it"


@pytest.mark.parametrize("framework_version", [1, 2])
def test_lookups_by_key_quarantine_too(fusion_sandbox: RunningFusionSandbox, framework_version: int) -> None:
    order, expected = poisoned(fusion_sandbox)
    customers = all_customers(fusion_sandbox)
    clean = [pid for _, pid in order[10:15]]
    numbers = [customers[pid]["PartyNumber"] for pid in [*expected, *clean]]
    client = fusion_client(oauth_connection(fusion_sandbox, framework_version))
    by_number = client.fetch_customers_by_numbers([*numbers, "CDRM_NOPE"])
    assert sorted(c.party_id for c in by_number) == sorted(clean)
    assert sorted(by_number.quarantined, key=lambda q: q.party_id) == sorted(
        expected.values(), key=lambda q: q.party_id
    )
    by_id = client.fetch_customers([*expected, *clean])
    assert [c.party_id for c in by_id] == sorted(clean)
    assert {q.party_id: q.reason for q in by_id.quarantined} == {pid: q.reason for pid, q in expected.items()}
    assert client.stats.get("quarantined") == 10


@pytest.mark.parametrize(
    ("attribute", "value", "problem"),
    [
        ("PartyId", "abc", 'PartyId: expected an integer, got a string ("abc")'),
        ("LastUpdateDate", None, "LastUpdateDate: expected an ISO 8601 timestamp, got null"),
    ],
)
@pytest.mark.parametrize("framework_version", [1, 2])
def test_an_unusable_keyset_value_stops_the_read_naming_the_record(
    fusion_sandbox: RunningFusionSandbox, framework_version: int, attribute: str, value: Any, problem: str
) -> None:
    customers = all_customers(fusion_sandbox)
    order = ordered_keys(customers)
    number = customers[order[120][1]]["PartyNumber"]
    malform(fusion_sandbox, [number], attribute, value)
    malform(fusion_sandbox, [customers[order[3][1]]["PartyNumber"]], "PostalCode", 94065)
    client = fusion_client(oauth_connection(fusion_sandbox, framework_version))
    with pytest.raises(FusionKeysetError) as raised:
        list(client.extract_customers())
    error = raised.value
    assert (error.index, error.party_number, error.field, error.problem) == (120, number, attribute, problem)
    assert f"row 120 of the page (PartyNumber {number}) has an unusable keyset value ({problem})" in str(
        error
    )
    with pytest.raises(FusionKeysetError, match=f"PartyNumber {number}"):
        list(client.fetch_customers_by_numbers([number]))


def test_the_extract_step_carries_quarantined_rows_as_rejects_to_plan(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    order, expected = poisoned(fusion_sandbox)
    customers = all_customers(fusion_sandbox)
    first = expected[order[0][1]]
    client = fusion_client(oauth_connection(fusion_sandbox), page_size=50)
    extract = extract_customers(
        client,
        ExtractMode.FULL,
        mark=None,
        retry_keys=[str(first.party_number), customers[order[5][1]]["PartyNumber"]],
        now=sandbox_now(fusion_sandbox) + timedelta(seconds=1),
    )
    in_keyset_order = sorted(extract.quarantined, key=lambda q: (q.last_update_date, q.party_id))
    assert in_keyset_order == [expected[pid] for _, pid in order if pid in expected]
    assert (extract.stats["records"], extract.stats["quarantined"]) == (195, 5)
    assert extract.retry_keys == (), "a due key read in the window, valid or quarantined, is not looked up"
    assert not {c.key for c in extract.customers} & {str(q.party_number) for q in expected.values()}
    assert extract.mark_candidate == HighWaterMark(*order[-1]), "the mark passes a quarantined last row"
    actions = quarantine_actions(extract.quarantined)
    assert [(a.customer_key, a.action, a.reason) for a in actions] == [
        (str(q.party_number), Action.REJECT_INVALID, f"quarantined: {q.reason}") for q in extract.quarantined
    ]
    (first_action,) = [a for a in actions if a.customer_key == str(first.party_number)]
    assert (first_action.party_id, first_action.last_update) == (first.party_id, first.last_update_date)


def test_replays_and_due_retries_quarantine_through_lookups(fusion_sandbox: RunningFusionSandbox) -> None:
    order, expected = poisoned(fusion_sandbox)
    customers = all_customers(fusion_sandbox)
    bad = [str(q.party_number) for q in expected.values()][:2]
    good = [customers[pid]["PartyNumber"] for _, pid in order[10:12]]
    client = fusion_client(oauth_connection(fusion_sandbox))
    now = sandbox_now(fusion_sandbox) + timedelta(seconds=1)
    replay = extract_customers(client, ExtractMode.KEYS, mark=None, keys=[*bad, *good], now=now)
    assert sorted(c.key for c in replay.customers) == sorted(good)
    assert sorted(str(q.party_number) for q in replay.quarantined) == sorted(bad)
    assert replay.stats["quarantined"] == 2
    empty_window = extract_customers(
        client, ExtractMode.WINDOW, mark=None, since=now, until=now, retry_keys=[*bad, good[0]], now=now
    )
    assert [c.key for c in empty_window.customers] == [good[0]]
    assert sorted(str(q.party_number) for q in empty_window.quarantined) == sorted(bad)
    assert empty_window.retry_keys == (*bad, good[0])
