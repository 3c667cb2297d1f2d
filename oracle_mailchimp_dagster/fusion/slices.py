"""Where to cut a window into LastUpdateDate slices, as pure functions over estimated counts.

A slice is a half-open time range `[start, end)`: a timestamp belongs to exactly one slice, so rows
tied on a boundary all fall into the later one and no (LastUpdateDate, PartyId) keyset ever crosses
a boundary. Boundaries are whole milliseconds (Oracle's precision, and what `q` literals carry).

The counts are `totalResults` estimates (an estimate on real pods, skewed on purpose by the
sandbox), so they only balance the work: which row goes where is decided by the boundaries alone.
Planning starts from equal stretches of time, halves the ones that hold far more than their share
(customer data is never evenly spread over time: bulk updates stamp thousands of rows at once, and
recent years hold more changes), then joins neighbours up to the share, largest first to schedule.
"""

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MS = timedelta(milliseconds=1)
SLICES_PER_WORKER = 2  # more slices than workers, so an unlucky estimate leaves a short tail
MIN_SLICE_PAGES = 2  # a slice of fewer pages saves less than the requests that plan it
OVERSIZED = 1.5  # a stretch holding more than this many shares is halved
REFINE_ROUNDS = 2  # rounds of halving, each one concurrent round of counts


# Estimated counts of some ranges, asked of the pod (concurrently) by the caller.
CountAll = Callable[[list[tuple[datetime, datetime]]], list[int | None]]


@dataclass(frozen=True)
class Span:
    """A stretch `[start, end)` of LastUpdateDate and how many rows it is estimated to hold."""

    start: datetime
    end: datetime
    estimate: int | None


def whole_ms(value: datetime) -> datetime:
    """`value` cut down to its millisecond."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def slice_goal(remaining: int | None, page_size: int, concurrency: int) -> int:
    """How many slices to plan for `remaining` rows: two per worker, none under two pages each.
    Unknown (no estimate from the pod): two per worker."""
    most = SLICES_PER_WORKER * concurrency
    if remaining is None:
        return most
    return max(1, min(most, remaining // (MIN_SLICE_PAGES * page_size)))


def split_points(low: datetime, high: datetime, parts: int) -> list[datetime]:
    """Up to `parts - 1` whole-millisecond boundaries strictly between `low` and `high`, evenly
    spaced in time (fewer when the stretch is only a few milliseconds wide)."""
    base = whole_ms(low)
    top = whole_ms(high)
    width = (top - base) // MS
    points = {base + MS * (width * i // parts) for i in range(1, parts)}
    return sorted(p for p in points if low < p < top)


def midpoint(span: Span) -> datetime | None:
    """The whole millisecond halving `span` in time, or None when it is too narrow to halve."""
    points = split_points(span.start, span.end, 2)
    return points[0] if points else None


def spans_between(
    low: datetime, high: datetime, points: Sequence[datetime]
) -> list[tuple[datetime, datetime]]:
    """The consecutive stretches `[low, p1), [p1, p2), ..., [pn, high)`."""
    return list(itertools.pairwise([low, *points, high]))


def share_of(spans: Sequence[Span], goal: int) -> float | None:
    """Rows per slice when `spans` are cut into `goal` slices (None without estimates)."""
    if any(span.estimate is None for span in spans):
        return None
    total = sum(span.estimate or 0 for span in spans)
    return max(total / max(goal, 1), 1.0)


def oversized(spans: Sequence[Span], share: float | None) -> list[int]:
    """Indexes of the spans worth halving: over `OVERSIZED` shares and wide enough to halve."""
    if share is None:
        return []
    return [
        i
        for i, span in enumerate(spans)
        if (span.estimate or 0) > OVERSIZED * share and midpoint(span) is not None
    ]


def halves(span: Span) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The two stretches of `span` either side of its midpoint (which must exist)."""
    middle = midpoint(span)
    if middle is None:
        raise ValueError("span too narrow to halve")
    return (span.start, middle), (middle, span.end)


def merge(spans: Sequence[Span], share: float | None) -> list[Span]:
    """Neighbouring spans joined while together they stay within one share (unknown: kept apart)."""
    if share is None:
        return list(spans)
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last is not None and (last.estimate or 0) + (span.estimate or 0) <= share:
            merged[-1] = Span(last.start, span.end, (last.estimate or 0) + (span.estimate or 0))
        else:
            merged.append(span)
    return merged


def largest_first(estimates: Sequence[int | None]) -> list[int]:
    """Indexes in the order to hand slices out: the largest estimate first (unknown last, in time
    order), so the short ones fill in at the end (longest-processing-time scheduling)."""
    return sorted(range(len(estimates)), key=lambda i: (-(estimates[i] or -1), i))


def plan_spans(
    low: datetime, high: datetime, remaining: int | None, goal: int, count_all: CountAll | None
) -> list[Span]:
    """The slices of `[low, high)` for `goal` workers' worth: equal stretches of time, counted;
    those over `OVERSIZED` shares halved (up to `REFINE_ROUNDS` rounds); neighbours joined up to a
    share. Without counts (`count_all` None) the equal stretches as they are."""
    if goal <= 1:
        return [Span(low, high, remaining)]
    ranges = spans_between(low, high, split_points(low, high, goal))
    if count_all is None:
        return [Span(a, b, None) for a, b in ranges]
    spans = [Span(a, b, n) for (a, b), n in zip(ranges, count_all(ranges), strict=True)]
    share = share_of(spans, goal)
    for _ in range(REFINE_ROUNDS):
        big = set(oversized(spans, share))
        if not big:
            break
        wanted = [half for i in sorted(big) for half in halves(spans[i])]
        counted = iter([Span(a, b, n) for (a, b), n in zip(wanted, count_all(wanted), strict=True)])
        refined: list[Span] = []
        for i, span in enumerate(spans):
            refined.extend((next(counted), next(counted)) if i in big else (span,))
        spans = refined
    return merge(spans, share)
