"""Property: keyset paging returns each row of the window exactly once, in order, whatever the ties.

The "server" is the Fusion sandbox's own `q` parser and evaluator (pure, in-process): it filters rows
by the q the pager plans, orders them by (LastUpdateDate, PartyId) and cuts one page, as a pod does,
optionally capping pages one row short of the limit (the 499 quirk). With malformed rows, the page
is a JSON body read by the client's own page reader: quarantined rows move the keyset like the others.
"""

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager
from oracle_mailchimp_dagster.fusion.pages import ReadPage, read_page
from oracle_mailchimp_dagster.fusion.parallel import SlicedExtraction
from oracle_mailchimp_dagster.http import CallCounters
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


# ---- sliced extraction: the window cut into LastUpdateDate slices, paged by several threads ----


class SlicingPod:
    """The same evaluator behind the three reads of a sliced extraction, thread-safe, with rows that
    move while they are paged: before the Nth request (of any thread) a row is updated (stamped past
    the window's end, as a change during the run is) or a late commit lands inside the window."""

    def __init__(
        self,
        rows: list[tuple[int, int]],
        *,
        version: int,
        skew: float,
        counts: bool,
        cap_quirk: bool,
        events: dict[int, list[tuple[str, int, int]]],
    ) -> None:
        self.rows = dict(rows)  # PartyId -> ms
        self.version = version
        self.skew = skew
        self.counts = counts
        self.cap_quirk = cap_quirk
        self.events = events
        self.requests = 0
        self.lock = threading.Lock()

    def _matching(self, q: str | None) -> list[tuple[int, int]]:
        self.requests += 1
        for kind, pid, ms in self.events.get(self.requests, []):
            if (kind == "update") == (pid in self.rows):  # an update of a row, or a new row
                self.rows[pid] = ms
        epoch_ms = int(EPOCH.timestamp() * 1000)
        node = parse_q(q or "", self.version, SCHEMA)
        predicate = compile_predicate(node, INDEX) if node is not None else (lambda r: True)
        stored = [(pid, epoch_ms + ms) for pid, ms in self.rows.items()]
        return sorted(
            ((pid, ms - epoch_ms) for pid, ms in stored if predicate((pid, ms))), key=lambda r: (r[1], r[0])
        )

    def _estimate(self, q: str | None, true: int) -> int | None:
        if not self.counts:
            return None
        wobble = int.from_bytes(hashlib.sha256((q or "").encode()).digest()[:4], "big") / 2**32 * 2 - 1
        return max(0, round(true * (1 + self.skew * wobble)))

    def page(self, q: str | None, request: CallCounters, *, total: bool = False) -> ReadPage:
        with self.lock:
            matching = self._matching(q)
            limit = min(PAGE, 4) if self.cap_quirk else PAGE
            page = matching[:limit]
            items = tuple(FusionCustomer(party_id=pid, last_update_date=at(ms)) for pid, ms in page)
            return ReadPage(
                items, len(matching) > len(page), self._estimate(q, len(matching)) if total else None
            )

    def count(self, q: str | None, request: CallCounters) -> int | None:
        with self.lock:
            return self._estimate(q, len(self._matching(q)))

    def latest(self, q: str | None, request: CallCounters) -> datetime | None:
        with self.lock:
            matching = self._matching(q)
            return at(matching[-1][1]) if matching else None


PAGE = 3
UNTIL = 86_400_000 + 1  # the run's fixed end: every stamp below is inside it, changes land past it
stamps = st.sampled_from([0, 1, 2, 3, 5, 8, 1000, 1001, 60_000, 3_600_000, 86_400_000])
sliced_rows = st.lists(
    st.tuples(st.integers(1, 10_000), stamps), min_size=4, max_size=90, unique_by=lambda r: r[0]
)


@settings(max_examples=300, deadline=None)
@given(
    rows=sliced_rows,
    version=st.sampled_from([1, 2, 4]),
    concurrency=st.integers(2, 4),
    since=st.one_of(st.none(), st.sampled_from([0, 1, 1001])),
    resume=st.one_of(st.none(), st.integers(0, 89)),
    skew=st.sampled_from([0.0, 0.3, 1.0]),
    counts=st.booleans(),
    cap_quirk=st.booleans(),
    moves=st.lists(st.tuples(st.integers(1, 40), st.integers(0, 89), st.booleans()), max_size=8),
    open_end=st.booleans(),
)
def test_sliced_extraction_returns_every_row_of_the_window_once(
    rows: list[tuple[int, int]],
    version: int,
    concurrency: int,
    since: int | None,
    resume: int | None,
    skew: float,
    counts: bool,
    cap_quirk: bool,
    moves: list[tuple[int, int, bool]],
    open_end: bool,
) -> None:
    """Across slices each customer of the window comes exactly once, whatever the ties, the slice
    boundaries (estimates skewed or missing) and the interleaving, while rows change under it: an
    updated row comes at most once (in its old version) and is the next window's; a row never
    touched comes once; a late commit comes at most once. Each slice's rows come in keyset order.
    A window without end (the last slice open, its end found by a probe) gets late commits only: an
    update would land inside it again, which is why a run fixes its `until`."""
    after = None
    if resume is not None and rows:  # a window resumed strictly after a mark has no `since`
        pid, ms = sorted(rows, key=lambda r: (r[1], r[0]))[resume % len(rows)]
        after, since = CustomerCursor(at(ms), pid), None
    events: dict[int, list[tuple[str, int, int]]] = {}
    for n, index, update in moves:
        if update and open_end:
            continue
        if update and rows:
            events.setdefault(n, []).append(("update", rows[index % len(rows)][0], UNTIL + index))
        elif not update:
            events.setdefault(n, []).append(("late", 20_000 + index, [1, 1001, 60_000][index % 3]))
    pod = SlicingPod(rows, version=version, skew=skew, counts=counts, cap_quirk=cap_quirk, events=events)
    until = None if open_end else at(UNTIL)
    pager = KeysetPager(
        version, PAGE, since=at(since) if since is not None else None, until=until, after=after
    )
    sliced = SlicedExtraction(
        pod,
        tenant="acme",
        framework_version=version,
        page_size=PAGE,
        concurrency=concurrency,
        stats=CallCounters(),
    )
    got = [(r.last_update_date, r.party_id) for result in sliced.run(pager) for r in result.new_rows]

    moved = {pid for kind, pid, _ in (e for batch in events.values() for e in batch) if kind == "update"}
    late = {pid for kind, pid, _ in (e for batch in events.values() for e in batch) if kind == "late"}

    def in_window(ms: int, pid: int) -> bool:
        key = (at(ms), pid)
        return (
            (since is None or ms >= since)
            and (open_end or ms < UNTIL)
            and (after is None or key > (after.last_update_date, after.party_id))
        )

    original = dict(rows)
    assert len({pid for _, pid in got}) == len(got), "no customer twice"
    must = {(at(ms), pid) for pid, ms in rows if pid not in moved and in_window(ms, pid)}
    may = {(at(ms), pid) for pid, ms in rows if pid in moved and in_window(ms, pid)}
    may |= {(at(pod.rows[pid]), pid) for pid in late if pid in pod.rows and in_window(pod.rows[pid], pid)}
    assert must <= set(got), "every untouched customer of the window"
    assert set(got) <= must | may, "nothing outside the window, no version it never had"
    assert all(original.get(pid, pod.rows.get(pid)) is not None for _, pid in got)
    furthest = [CustomerCursor(*key) for key in got] + ([after] if after is not None else [])
    assert sliced.cursor() == (max(furthest) if furthest else None), "the mark: the largest key read"
    event(f"slices: {min(len(sliced._slices), 4)}{'+' if len(sliced._slices) > 4 else ''}")
    event(f"steals: {min(sliced._stats.get('steals'), 1)}")
    for piece in sliced._slices:
        low = piece.start if piece.start is not None else None
        high = piece.pager.until
        mine = [key for key in got if (low is None or key[0] >= low) and (high is None or key[0] < high)]
        assert mine == sorted(mine), "within a slice, keyset order"
