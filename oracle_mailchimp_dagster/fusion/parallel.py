"""A window read as LastUpdateDate slices by a few threads at once, after its first page.

Page 1 is read alone, asking for the pod's estimate of the window (`totalResults`): a window that
fits on it costs nothing more. Otherwise planning (`fusion.slices`) cuts `(cursor of page 1,
until)` into slices balanced by counts; the first slice is the window's own pager, narrowed, so a
window resumed strictly after a mark keeps that meaning. Each slice is a keyset pass of its own
(one thread at a time pages it, so its rows come in keyset order); slices interleave. A worker with
nothing left to take splits the running slice with the most rows left at a time midpoint past its
cursor (one count tells whether the far half is worth a worker), so a bad estimate leaves no long
tail. Every request waits at the `ConcurrencyGate`, whose limit backs off under 429/5xx/slow pages
and recovers.

Memory stays bounded: a worker takes a place in `room` before each page and the consumer gives it
back when it has taken the page, so at most `2 x concurrency` pages are buffered or in flight.
"""

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol, TypeVar

from oracle_mailchimp_dagster.fusion.adaptive import (
    AdaptiveConcurrency,
    ConcurrencyGate,
    ConcurrencyReport,
    GateClosed,
)
from oracle_mailchimp_dagster.fusion.errors import FusionResponseError
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager, NoProgressError, PageResult
from oracle_mailchimp_dagster.fusion.pages import PageRow, ReadPage
from oracle_mailchimp_dagster.fusion.query import CustomerCursor, range_q
from oracle_mailchimp_dagster.fusion.slices import MS, Span, largest_first, midpoint, plan_spans, slice_goal
from oracle_mailchimp_dagster.http import CallCounters

SPLIT_PROBES = 3  # counts one worker spends looking for a worthwhile split of one slice
MAX_FAILED_SPLITS = 2  # then that slice is left to finish on its own

T = TypeVar("T")


class SliceReads(Protocol):
    """The three reads a sliced extraction makes, each counted into `request` too."""

    def page(self, q: str | None, request: CallCounters, *, total: bool = False) -> ReadPage: ...

    def count(self, q: str | None, request: CallCounters) -> int | None: ...

    def latest(self, q: str | None, request: CallCounters) -> datetime | None: ...


class _Slice:
    """One slice: its pager (guarded by `lock`), where it starts, and how many rows it should hold."""

    def __init__(
        self, pager: KeysetPager, start: datetime | None, end_hint: datetime | None, estimate: int | None
    ) -> None:
        self.pager = pager
        self.start = start
        self.end_hint = end_hint  # where rows are thought to end when the pager has no `until`
        self.estimate = estimate
        self.read = 0
        self.lock = threading.Lock()
        self.splitting = False
        self.failed_splits = 0

    def rows_left(self, page_size: int) -> int:
        """Rows thought left, to choose what to split: the estimate less what was read; when the
        estimate is missing or proven wrong, two pages (worth one count to find out)."""
        if self.estimate is None or self.read >= self.estimate + page_size:
            return 2 * page_size
        return max(self.estimate - self.read, 0)

    def sort_key(self) -> tuple[bool, datetime | None]:
        return (self.start is not None, self.start)


class SlicedExtraction:
    """Reads the rest of a window concurrently; `run` yields each page's PageResult as it comes."""

    def __init__(
        self,
        reads: SliceReads,
        *,
        tenant: str,
        framework_version: int,
        page_size: int,
        concurrency: int,
        stats: CallCounters,
    ) -> None:
        self._reads = reads
        self._tenant = tenant
        self._version = framework_version
        self._page_size = page_size
        self._workers = concurrency
        self._stats = stats
        self._gate = ConcurrencyGate(AdaptiveConcurrency(concurrency))
        self._board = threading.Condition()  # guards the slice list, the queue and `splitting`
        self._slices: list[_Slice] = []
        self._queue: list[_Slice] = []
        self._out: queue.SimpleQueue[PageResult[PageRow] | BaseException | None] = queue.SimpleQueue()
        self._room = threading.Semaphore(2 * concurrency)
        self._stop = threading.Event()
        self._first: KeysetPager | None = None

    def report(self) -> ConcurrencyReport:
        return self._gate.report()

    def cursor(self) -> CustomerCursor | None:
        """The furthest (LastUpdateDate, PartyId) with every row before it read: the largest cursor
        over the slices up to the first unfinished one (all of them, once all are done)."""
        with self._board:
            slices = sorted(self._slices, key=_Slice.sort_key)
        if not slices:
            return self._first.cursor if self._first is not None else None
        best: CustomerCursor | None = None
        for piece in slices:
            with piece.lock:
                seen, done = piece.pager.cursor, piece.pager.done
            if seen is not None and (best is None or seen > best):
                best = seen
            if not done:
                break
        return best

    def run(self, first: KeysetPager) -> Iterator[PageResult[PageRow]]:
        """Read page 1 of `first`'s window, then (when more follow) plan the slices and page them,
        yielding each page's result as it comes; the first error of any worker is raised here."""
        self._first = first
        page = self._reads.page(first.next_q(), CallCounters(), total=True)
        result = _accepted(self._tenant, first, page)
        yield result
        if first.done:
            return
        pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="fusion-slice")
        try:
            self._plan(first, page.total, len(result.new_rows), pool)
            live = self._workers
            for _ in range(live):
                pool.submit(self._work)
            while live:
                item = self._out.get()  # a page, a worker's error, or None: a worker is done
                if item is None:
                    live -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    self._room.release()
                    yield item
        finally:
            self._stop.set()
            self._gate.close()
            for _ in range(self._workers):
                self._room.release()
            with self._board:
                self._board.notify_all()
            pool.shutdown(wait=False, cancel_futures=True)

    # ---- planning ----------------------------------------------------------------------------

    def _plan(self, first: KeysetPager, total: int | None, read: int, pool: ThreadPoolExecutor) -> None:
        assert first.cursor is not None, "page 1 had rows, or the window would be done"
        window_until = first.until
        low = first.cursor.last_update_date
        high = window_until
        if high is None:
            latest = self._call(lambda r: self._reads.latest(range_q(self._version, since=low), r))
            self._stats.add("count_requests")
            high = latest + MS if latest is not None else None
        remaining = None if total is None else max(total - read, 0)
        spans: list[Span] = []
        if high is not None:

            def count_all(ranges: list[tuple[datetime, datetime]]) -> list[int | None]:
                # A range ending at `high` of a window without end is counted without end, as paged.
                ends = [None if b == high and window_until is None else b for _, b in ranges]
                futures = [pool.submit(self._count, a, end) for (a, _), end in zip(ranges, ends, strict=True)]
                return [future.result() for future in futures]

            goal = slice_goal(remaining, self._page_size, self._workers)
            spans = plan_spans(low, high, remaining, goal, count_all if remaining is not None else None)
        self._adopt(first, spans, remaining, high, window_until)

    def _adopt(
        self,
        first: KeysetPager,
        spans: list[Span],
        remaining: int | None,
        high: datetime | None,
        window_until: datetime | None,
    ) -> None:
        """The slices: `first` narrowed to the first span, then one pager per further span."""
        slices = [_Slice(first, first.since, high, remaining)]
        if len(spans) > 1:
            first.narrow(spans[0].end)
            slices = [_Slice(first, first.since, high, spans[0].estimate)]
            for i, span in enumerate(spans[1:], start=1):
                until = window_until if i == len(spans) - 1 else span.end
                pager = KeysetPager(self._version, self._page_size, since=span.start, until=until)
                slices.append(_Slice(pager, span.start, high, span.estimate))
        with self._board:
            self._slices = slices
            self._queue = [slices[i] for i in largest_first([s.estimate for s in slices])]
        self._stats.add("slices", len(slices))

    # ---- workers -----------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                piece = self._claim() or self._steal()
                if piece is None:
                    break
                self._read(piece)
        except GateClosed:
            pass
        except BaseException as exc:  # handed to the consumer, which raises it
            self._stop.set()
            self._out.put(exc)
        finally:
            self._out.put(None)

    def _claim(self) -> _Slice | None:
        with self._board:
            return self._queue.pop(0) if self._queue else None

    def _read(self, piece: _Slice) -> None:
        """Page one slice to its end (which a split may bring forward meanwhile)."""
        while not self._stop.is_set():
            with piece.lock:
                if piece.pager.done:
                    return
                q = piece.pager.next_q()
            self._room.acquire()
            if self._stop.is_set():
                return
            page = self._page(q)
            with piece.lock:
                result = _accepted(self._tenant, piece.pager, page)
                piece.read += len(result.new_rows)
            self._out.put(result)

    def _steal(self) -> _Slice | None:
        """A new slice split off the running one with the most rows left, or None when none is
        worth splitting (after waiting for any split under way, which may leave one)."""
        while not self._stop.is_set():
            with self._board:
                victim = self._victim()
                if victim is None:
                    if not any(s.splitting for s in self._slices):
                        return None
                    self._board.wait()
                    continue
                victim.splitting = True
            taken = None
            try:
                taken = self._split(victim)
            finally:
                with self._board:
                    victim.splitting = False
                    if taken is not None:
                        self._slices.append(taken)
                    else:
                        victim.failed_splits += 1
                    self._board.notify_all()
            if taken is not None:
                self._stats.add("steals")
                self._stats.add("slices")
                return taken
        return None

    def _victim(self) -> _Slice | None:
        queued = set(map(id, self._queue))
        candidates = [
            s
            for s in self._slices
            if id(s) not in queued
            and not s.pager.done
            and not s.splitting
            and s.failed_splits < MAX_FAILED_SPLITS
            and s.rows_left(self._page_size) >= 2 * self._page_size
        ]
        return max(candidates, key=lambda s: s.rows_left(self._page_size), default=None)

    def _split(self, victim: _Slice) -> _Slice | None:
        """Cut `victim` at a time midpoint past its cursor whose far side holds a page or more."""
        with victim.lock:
            if victim.pager.done:
                return None
            cursor = victim.pager.cursor
            low = cursor.last_update_date if cursor is not None else victim.start
            end = victim.pager.until
            left = victim.rows_left(self._page_size)
        high = end or victim.end_hint
        if low is None or high is None:
            return None
        for _ in range(SPLIT_PROBES):
            middle = midpoint(Span(low, high, None))
            if middle is None:
                return None
            count = self._count(middle, end)
            if count is None or count >= self._page_size:
                with victim.lock:
                    seen = victim.pager.cursor
                    if victim.pager.done or (seen is not None and seen.last_update_date >= middle):
                        return None
                    victim.pager.narrow(middle)
                    if victim.estimate is not None and count is not None:
                        victim.estimate = victim.read + max(left - count, 0)
                pager = KeysetPager(self._version, self._page_size, since=middle, until=end)
                return _Slice(pager, middle, victim.end_hint, count)
            high = middle
        return None

    # ---- requests ----------------------------------------------------------------------------

    def _page(self, q: str | None) -> ReadPage:
        return self._call(lambda r: self._reads.page(q, r), sample=True)

    def _count(self, since: datetime, until: datetime | None) -> int | None:
        self._stats.add("count_requests")
        return self._call(lambda r: self._reads.count(range_q(self._version, since=since, until=until), r))

    def _call(self, read: Callable[[CallCounters], T], *, sample: bool = False) -> T:
        """One read through the gate; its retries (429, 5xx, timeouts) and its time are its outcome.
        Only pages of at least half the page size are latency samples (a short page is quicker)."""
        ticket = self._gate.enter()
        request = CallCounters()
        started = time.monotonic()
        try:
            result = read(request)
        except BaseException:
            self._gate.leave(ticket, throttled=request.get("retries") > 0)
            raise
        seconds = time.monotonic() - started
        full = isinstance(result, ReadPage) and 2 * len(result.rows) >= self._page_size
        throttled = request.get("retries") > 0
        self._gate.leave(ticket, throttled=throttled, seconds=seconds if sample and full else None)
        return result


def _accepted(tenant: str, pager: KeysetPager, page: ReadPage) -> PageResult[PageRow]:
    try:
        return pager.accept(page.rows, page.has_more)
    except NoProgressError as exc:
        raise FusionResponseError(tenant, str(exc)) from None
