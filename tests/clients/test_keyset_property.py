"""Property: keyset paging returns each row of the window exactly once, in order, whatever the ties.

The "server" is the Fusion sandbox's own `q` parser and evaluator (pure, in-process): it filters rows
by the q the pager plans, orders them by (LastUpdateDate, PartyId) and cuts one page, as a pod does,
optionally capping pages one row short of the limit (the 499 quirk). With malformed rows, the page
is a JSON body read by the client's own page reader: quarantined rows move the keyset like the others.
"""

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager
from oracle_mailchimp_dagster.fusion.pages import read_page
from oracle_mailchimp_dagster.sandbox.fusion.query import QuerySchema, parse_q
from oracle_mailchimp_dagster.sandbox.fusion.query.evaluate import compile_predicate

SCHEMA = QuerySchema(
    kinds={"PartyId": "integer", "LastUpdateDate": "datetime"}, known=frozenset({"PartyId", "LastUpdateDate"})
)
INDEX = {"PartyId": 0, "LastUpdateDate": 1}
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def serve(rows: list[tuple[int, int]], q: str | None, version: int, limit: int, cap_quirk: bool):
    epoch_ms = int(EPOCH.timestamp() * 1000)
    stored = [(pid, epoch_ms + ms) for pid, ms in rows]
    node = parse_q(q or "", version, SCHEMA)
    predicate = compile_predicate(node, INDEX) if node is not None else (lambda r: True)
    matching = sorted((r for r in stored if predicate(r)), key=lambda r: (r[1], r[0]))
    effective = min(limit, 4) if cap_quirk else limit
    page = matching[:effective]
    items = [FusionCustomer(party_id=pid, last_update_date=at(ms - epoch_ms)) for pid, ms in page]
    return items, len(matching) > len(page)


rows_strategy = st.lists(
    st.tuples(st.integers(1, 10_000), st.sampled_from([0, 1, 2, 5, 1000, 1001, 86_400_000])),
    max_size=60,
    unique_by=lambda r: r[0],
)


@settings(max_examples=300, deadline=None)
@given(
    rows=rows_strategy,
    version=st.sampled_from([1, 2, 4]),
    page_size=st.integers(1, 12),
    since=st.one_of(st.none(), st.sampled_from([0, 1, 2, 1001])),
    until=st.one_of(st.none(), st.sampled_from([1, 5, 1001, 86_400_000])),
    cap_quirk=st.booleans(),
)
def test_every_row_in_the_window_exactly_once(
    rows: list[tuple[int, int]],
    version: int,
    page_size: int,
    since: int | None,
    until: int | None,
    cap_quirk: bool,
) -> None:
    pager = KeysetPager(
        version,
        page_size,
        since=at(since) if since is not None else None,
        until=at(until) if until is not None else None,
    )
    got: list[tuple[datetime, int]] = []
    for _ in range(500):
        if pager.done:
            break
        items, has_more = serve(rows, pager.next_q(), version, page_size, cap_quirk)
        got += [(r.last_update_date, r.party_id) for r in pager.accept(items, has_more).new_rows]
    assert pager.done
    expected = sorted(
        (at(ms), pid) for pid, ms in rows if (since is None or ms >= since) and (until is None or ms < until)
    )
    assert got == expected


# A value of the wrong JSON type for a string attribute: each quarantines its row, never the page.
bad_values = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
malformed_rows_strategy = st.lists(
    st.tuples(
        st.integers(1, 10_000),
        st.sampled_from([0, 1, 2, 5, 1000, 1001, 86_400_000]),
        st.one_of(st.none(), st.tuples(st.sampled_from(["PostalCode", "EmailAddress", "City"]), bad_values)),
    ),
    max_size=60,
    unique_by=lambda r: r[0],
)


def serve_json(
    rows: list[tuple[int, int, tuple[str, object] | None]], q: str | None, version: int, limit: int
) -> bytes:
    """The same server, answering with a JSON page body in which malformed rows carry their bad value."""
    epoch_ms = int(EPOCH.timestamp() * 1000)
    by_key = {(pid, epoch_ms + ms): bad for pid, ms, bad in rows}
    node = parse_q(q or "", version, SCHEMA)
    predicate = compile_predicate(node, INDEX) if node is not None else (lambda r: True)
    matching = sorted((r for r in by_key if predicate(r)), key=lambda r: (r[1], r[0]))
    items = []
    for pid, ms in matching[:limit]:
        item: dict[str, object] = {
            "PartyId": pid,
            "PartyNumber": f"CDRM_{pid}",
            "LastUpdateDate": at(ms - epoch_ms).isoformat(timespec="milliseconds"),
            "PostalCode": "94065",
        }
        bad = by_key[(pid, ms)]
        if bad is not None:
            item[bad[0]] = bad[1]
        items.append(item)
    body = {"items": items, "count": len(items), "hasMore": len(matching) > limit}
    return json.dumps(body).encode()  # the stdlib, so integers beyond 64 bits are sent too


@settings(max_examples=200, deadline=None)
@given(
    rows=malformed_rows_strategy,
    version=st.sampled_from([1, 2, 4]),
    page_size=st.integers(1, 12),
    since=st.one_of(st.none(), st.sampled_from([0, 1, 1001])),
)
def test_quarantined_rows_are_paged_past_exactly_once(
    rows: list[tuple[int, int, tuple[str, object] | None]], version: int, page_size: int, since: int | None
) -> None:
    pager = KeysetPager(version, page_size, since=at(since) if since is not None else None)
    customers: list[tuple[datetime, int]] = []
    quarantined: list[tuple[datetime, int, str]] = []
    for _ in range(500):
        if pager.done:
            break
        page = read_page("acme", serve_json(rows, pager.next_q(), version, page_size))
        for row in pager.accept(page.rows, page.has_more).new_rows:
            if isinstance(row, QuarantinedRow):
                quarantined.append((row.last_update_date, row.party_id, row.attributes[0]))
            else:
                customers.append((row.last_update_date, row.party_id))
    assert pager.done
    window = sorted((at(ms), pid, bad) for pid, ms, bad in rows if since is None or ms >= since)
    assert customers == [(ts, pid) for ts, pid, bad in window if bad is None]
    assert quarantined == [(ts, pid, bad[0]) for ts, pid, bad in window if bad is not None]
    assert pager.cursor == (CustomerCursor(*window[-1][:2]) if window else None)
