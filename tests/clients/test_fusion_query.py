"""The q grammar for framework 1 (query-by-example) and 2+ (rowmatch), and the keyset planner."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from oracle_mailchimp_dagster.fusion import FusionCustomer
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager, NoProgressError
from oracle_mailchimp_dagster.fusion.query import (
    CustomerCursor,
    after_cursor_q,
    changed_after_q,
    party_ids_q,
    party_numbers_q,
    range_q,
    ties_q,
    timestamp_literal,
)

T0 = datetime(2025, 1, 5, 17, 2, 41, 507123, tzinfo=UTC)
T1 = datetime(2025, 1, 6, tzinfo=UTC)


def row(party_id: int, ts: datetime) -> FusionCustomer:
    return FusionCustomer(party_id=party_id, last_update_date=ts)


def test_timestamp_literals_are_utc_milliseconds_per_version() -> None:
    cet = timezone(timedelta(hours=1))
    local = datetime(2025, 1, 5, 18, 2, 41, 507000, tzinfo=cet)
    assert timestamp_literal(local, 1) == "2025-01-05T17:02:41.507Z"
    assert timestamp_literal(local, 2) == "'2025-01-05T17:02:41.507+00:00'"
    assert timestamp_literal(T0, 4) == "'2025-01-05T17:02:41.507+00:00'"
    with pytest.raises(ValueError, match="timezone-aware"):
        timestamp_literal(datetime(2025, 1, 1), 2)


def test_range_q_v1_uses_qbe_continuation_and_v2_uses_rowmatch() -> None:
    assert (
        range_q(1, since=T0, until=T1)
        == "LastUpdateDate>=2025-01-05T17:02:41.507Z and <2025-01-06T00:00:00.000Z"
    )
    assert range_q(1, since=T0, strict_since=True) == "LastUpdateDate>2025-01-05T17:02:41.507Z"
    assert range_q(1, until=T1) == "LastUpdateDate<2025-01-06T00:00:00.000Z"
    assert range_q(1) is None
    assert range_q(2, since=T0, until=T1) == (
        "LastUpdateDate >= '2025-01-05T17:02:41.507+00:00'"
        " and LastUpdateDate < '2025-01-06T00:00:00.000+00:00'"
    )
    assert range_q(3) is None


def test_after_cursor_q_is_the_keyset_predicate_bounded_by_until() -> None:
    cursor = CustomerCursor(T0, 300000012345678)
    keyset = (
        "(LastUpdateDate > '2025-01-05T17:02:41.507+00:00' or "
        "(LastUpdateDate = '2025-01-05T17:02:41.507+00:00' and PartyId > 300000012345678))"
    )
    assert after_cursor_q(2, cursor, None) == keyset
    assert after_cursor_q(2, cursor, T1) == keyset + " and LastUpdateDate < '2025-01-06T00:00:00.000+00:00'"
    with pytest.raises(ValueError, match="framework 1"):
        after_cursor_q(1, cursor, T1)


def test_ties_probe_and_lookup_queries() -> None:
    cursor = CustomerCursor(T0, 42)
    assert ties_q(1, cursor) == "LastUpdateDate=2025-01-05T17:02:41.507Z;PartyId>42"
    assert ties_q(2, cursor) == "LastUpdateDate = '2025-01-05T17:02:41.507+00:00' and PartyId > 42"
    assert changed_after_q(1, T0) == "LastUpdateDate>2025-01-05T17:02:41.507Z"
    assert changed_after_q(2, T0) == "LastUpdateDate > '2025-01-05T17:02:41.507+00:00'"
    assert party_ids_q(1, [1, 2, 3]) == "PartyId=1 or =2 or =3"
    assert party_ids_q(2, [1, 2, 3]) == "PartyId IN (1,2,3)"
    assert party_numbers_q(1, ["CDRM_1", "O'Neil"]) == "PartyNumber='CDRM_1' or ='O''Neil'"
    assert party_numbers_q(2, ["CDRM_1", "CDRM_2"]) == "PartyNumber IN ('CDRM_1','CDRM_2')"


def test_cursor_orders_by_timestamp_then_party_and_must_be_aware() -> None:
    assert CustomerCursor(T0, 9) < CustomerCursor(T0, 10) < CustomerCursor(T1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CustomerCursor(datetime(2025, 1, 1), 1)


def test_v2_pager_continues_strictly_after_last_row() -> None:
    pager = KeysetPager(2, 3, since=T0, until=T1)
    assert pager.next_q() == range_q(2, since=T0, until=T1)
    page = [row(5, T0), row(7, T0), row(2, T0 + timedelta(seconds=1))]
    result = pager.accept(page, has_more=True)
    assert [r.party_id for r in result.new_rows] == [5, 7, 2]
    assert pager.cursor == CustomerCursor(T0 + timedelta(seconds=1), 2)
    assert pager.next_q() == after_cursor_q(2, pager.cursor, T1)
    last = pager.accept([row(3, T0 + timedelta(seconds=1))], has_more=False)
    assert [r.party_id for r in last.new_rows] == [3]
    assert pager.done


def test_v2_pager_refuses_a_page_without_progress() -> None:
    pager = KeysetPager(2, 2, after=CustomerCursor(T0, 10))
    with pytest.raises(NoProgressError):
        pager.accept([row(9, T0), row(10, T0)], has_more=True)


def test_v1_pager_rereads_from_last_timestamp_and_drops_seen_rows() -> None:
    pager = KeysetPager(1, 20, since=T0, until=T1)
    t = [T0 + timedelta(seconds=i) for i in range(30)]
    first = [row(i, t[i]) for i in range(19)] + [row(100, t[18])]
    pager.accept(first, has_more=True)
    assert pager.next_q() == range_q(1, since=t[18], until=T1)
    again = [row(18, t[18]), row(100, t[18])] + [row(i, t[i]) for i in range(19, 37) if i < 30]
    result = pager.accept(again, has_more=False)
    assert result.dropped == 2
    assert result.new_rows[0].party_id == 19


def test_v1_pager_switches_to_ties_query_for_a_crowded_timestamp_then_resumes_after_it() -> None:
    pager = KeysetPager(1, 10, since=T0, until=T1)
    crowd = [row(i, T0) for i in range(1, 11)]
    pager.accept(crowd, has_more=True)
    assert pager.next_q() == "LastUpdateDate=2025-01-05T17:02:41.507Z;PartyId>10"
    pager.accept([row(i, T0) for i in range(11, 21)], has_more=True)
    assert pager.next_q() == "LastUpdateDate=2025-01-05T17:02:41.507Z;PartyId>20"
    tail = pager.accept([row(21, T0), row(22, T0)], has_more=False)
    assert [r.party_id for r in tail.new_rows] == [21, 22]
    assert not pager.done
    assert pager.next_q() == range_q(1, since=T0, until=T1, strict_since=True)
    end = pager.accept([row(3, T0 + timedelta(seconds=1))], has_more=False)
    assert [r.party_id for r in end.new_rows] == [3]
    assert pager.done


def test_pager_stops_on_empty_page_even_if_has_more_claims_otherwise() -> None:
    pager = KeysetPager(2, 10, since=T0)
    pager.accept([], has_more=True)
    assert pager.done
