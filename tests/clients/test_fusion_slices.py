"""Where a window is cut into LastUpdateDate slices: pure planning over estimated counts."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from oracle_mailchimp_dagster.fusion.slices import (
    CountAll,
    Span,
    largest_first,
    merge,
    midpoint,
    plan_spans,
    slice_goal,
    spans_between,
    split_points,
    whole_ms,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def test_boundaries_are_whole_milliseconds_strictly_inside() -> None:
    points = split_points(at(0), at(1000), 4)
    assert points == [at(250), at(500), at(750)]
    odd = split_points(at(0) + timedelta(microseconds=400), at(10) + timedelta(microseconds=900), 3)
    assert odd == [at(3), at(6)]
    assert all(p == whole_ms(p) for p in odd)


def test_a_stretch_a_few_milliseconds_wide_has_fewer_boundaries() -> None:
    assert split_points(at(0), at(2), 8) == [at(1)]
    assert split_points(at(0), at(1), 8) == []
    assert midpoint(Span(at(5), at(6), 10)) is None
    assert midpoint(Span(at(5), at(7), 10)) == at(6)


def test_spans_cover_the_range_edge_to_edge() -> None:
    spans = spans_between(at(0), at(9), [at(3), at(6)])
    assert spans == [(at(0), at(3)), (at(3), at(6)), (at(6), at(9))]


@pytest.mark.parametrize(
    ("remaining", "goal"),
    [(None, 8), (0, 1), (999, 1), (2000, 2), (100_000, 8)],
)
def test_the_goal_is_two_slices_per_worker_and_none_under_two_pages(remaining: int | None, goal: int) -> None:
    assert slice_goal(remaining, 500, 4) == goal


def test_neighbours_join_up_to_a_share_and_unknown_counts_stay_apart() -> None:
    spans = [Span(at(0), at(1), 10), Span(at(1), at(2), 0), Span(at(2), at(3), 30), Span(at(3), at(4), 50)]
    assert merge(spans, 40.0) == [Span(at(0), at(3), 40), Span(at(3), at(4), 50)]
    unknown = [Span(at(0), at(1), None), Span(at(1), at(2), None)]
    assert merge(unknown, None) == unknown


def test_slices_are_handed_out_largest_first() -> None:
    assert largest_first([5, 50, None, 20, 0]) == [1, 3, 0, 2, 4]


def counter(rows: list[int]) -> tuple[CountAll, list[list[tuple[datetime, datetime]]]]:
    """Exact counts of rows (ms stamps) per range, recording each call's ranges."""
    calls: list[list[tuple[datetime, datetime]]] = []

    def count_all(ranges: list[tuple[datetime, datetime]]) -> list[int | None]:
        calls.append(ranges)
        return [sum(1 for ms in rows if a <= at(ms) < b) for a, b in ranges]

    return count_all, calls


def test_skewed_data_is_halved_where_it_is_dense_and_joined_where_it_is_sparse() -> None:
    # 90% of the rows in the last eighth of the window, the rest spread evenly.
    rows = list(range(0, 100_000, 1000)) + [87_500 + i * 13 for i in range(900)]
    count_all, calls = counter(rows)
    spans = plan_spans(at(0), at(100_000), len(rows), 4, count_all)
    assert len(calls) >= 2, "a round of equal stretches, then halving the dense one"
    assert spans[0].start == at(0) and spans[-1].end == at(100_000)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert sum(s.estimate or 0 for s in spans) == len(rows)
    assert max(s.estimate or 0 for s in spans) < 0.5 * len(rows), "the dense stretch is cut"
    assert len([s for s in spans if s.start < at(87_500)]) <= 2, "the sparse ones are joined"
    assert len(spans) <= 8


def test_a_single_timestamp_cannot_be_cut_and_stays_one_slice() -> None:
    rows = [500] * 1000
    count_all, _ = counter(rows)
    spans = plan_spans(at(500), at(501), 1000, 8, count_all)
    assert spans == [Span(at(500), at(501), 1000)]


def test_without_counts_the_equal_stretches_are_the_slices() -> None:
    spans = plan_spans(at(0), at(800), None, 4, None)
    assert [(s.start, s.end) for s in spans] == [
        (at(0), at(200)),
        (at(200), at(400)),
        (at(400), at(600)),
        (at(600), at(800)),
    ]
    assert all(s.estimate is None for s in spans)


def test_one_slice_when_the_goal_is_one() -> None:
    assert plan_spans(at(0), at(10), 700, 1, None) == [Span(at(0), at(10), 700)]
