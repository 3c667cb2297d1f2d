"""One keyset-paged pass over the customers changed in a window, streamed page by page.

With `extract_concurrency` 1 the window is one keyset stream with one page prefetched. Above 1,
page 1 also asks for the pod's estimate of the window (`totalResults`); when more rows follow, the
rest is read as LastUpdateDate slices paged concurrently (`fusion.parallel`): records of different
slices interleave, each slice's in keyset order, and each customer of the window comes once.

Malformed rows are not yielded: they are kept aside as `quarantined` (the cursor moves past them).
"""

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oracle_mailchimp_dagster.fusion.adaptive import ConcurrencyReport
from oracle_mailchimp_dagster.fusion.errors import FusionResponseError
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager, NoProgressError, PageResult
from oracle_mailchimp_dagster.fusion.pages import FIELDS, PageRow, ReadPage, parse_page, read_page
from oracle_mailchimp_dagster.fusion.parallel import SlicedExtraction
from oracle_mailchimp_dagster.fusion.query import ORDER_BY, CustomerCursor
from oracle_mailchimp_dagster.fusion.records import FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.http import CallCounters

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.fusion.client import FusionClient

_KEYS = "PartyId,LastUpdateDate"


class CustomerExtraction:
    """One pass over the customers changed in a window; iterate once, then read `stats`, `cursor`,
    `quarantined` and `concurrency`.

    Rows stream page by page, so memory holds a few pages whatever the window size (two when
    sequential, at most twice the concurrency when sliced), plus the small quarantined rows.
    """

    def __init__(self, client: "FusionClient", pager: KeysetPager, resume: CustomerCursor | None) -> None:
        self._client = client
        self._pager = pager
        self._resume = resume
        self._started = False
        self._sliced: SlicedExtraction | None = None
        self.stats = CallCounters()
        self.since = pager.since
        self.until = pager.until
        self._quarantined: list[QuarantinedRow] = []

    @property
    def cursor(self) -> CustomerCursor | None:
        """Where a later extraction may resume: the last (LastUpdateDate, PartyId) read, with every
        row before it read (sliced: the largest over all slices once all are done), never before
        the mark this one resumed from (a look-back re-read does not move it backwards)."""
        seen = self._sliced.cursor() if self._sliced is not None else self._pager.cursor
        if self._resume is None or seen is None:
            return seen or self._resume
        return max(seen, self._resume)

    @property
    def quarantined(self) -> tuple[QuarantinedRow, ...]:
        """The rows read so far that did not validate (each once, like the others)."""
        return tuple(self._quarantined)

    @property
    def concurrency(self) -> ConcurrencyReport | None:
        """What the adaptive concurrency did (None when the window was read sequentially)."""
        return self._sliced.report() if self._sliced is not None else None

    def __iter__(self) -> Iterator[FusionCustomer]:
        if self._started:
            raise RuntimeError("a CustomerExtraction can be iterated only once")
        self._started = True
        if self._client.options.extract_concurrency == 1:
            return self._sequential()
        return self._sliced_rows()

    def _sequential(self) -> Iterator[FusionCustomer]:
        pager = self._pager
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fusion-prefetch") as prefetch:
            pending: Future[ReadPage] = prefetch.submit(self._fetch, pager.next_q())
            try:
                while True:
                    page = pending.result()
                    result = self._accept(page)
                    if not pager.done:
                        pending = prefetch.submit(self._fetch, pager.next_q())
                    yield from self._take(result)
                    if pager.done:
                        return
            finally:
                pending.cancel()

    def _sliced_rows(self) -> Iterator[FusionCustomer]:
        options = self._client.options
        self._sliced = SlicedExtraction(
            _Reads(self),
            tenant=self._client.connection.tenant,
            framework_version=self._client.connection.framework_version,
            page_size=options.page_size,
            concurrency=options.extract_concurrency,
            stats=self.stats,
        )
        for result in self._sliced.run(self._pager):
            yield from self._take(result)

    def _accept(self, page: ReadPage) -> PageResult[PageRow]:
        try:
            return self._pager.accept(page.rows, page.has_more)
        except NoProgressError as exc:
            raise FusionResponseError(self._client.connection.tenant, str(exc)) from None

    def _take(self, result: PageResult[PageRow]) -> list[FusionCustomer]:
        """Count one page's rows and set its quarantined ones aside; the customers to yield."""
        customers = [row for row in result.new_rows if isinstance(row, FusionCustomer)]
        quarantined = [row for row in result.new_rows if isinstance(row, QuarantinedRow)]
        self.stats.add("records", len(customers))
        if quarantined:
            self._quarantined.extend(quarantined)
            self.stats.add("quarantined", len(quarantined))
        if result.dropped:
            self.stats.add("duplicates_dropped", result.dropped)
        return customers

    def _fetch(self, q: str | None, request: CallCounters | None = None, *, total: bool = False) -> ReadPage:
        params: dict[str, Any] = {
            "orderBy": ORDER_BY,
            "limit": self._pager.page_size,
            "onlyData": "true",
            "fields": FIELDS,
        }
        if q is not None:
            params["q"] = q
        if total:
            params["totalResults"] = "true"
        page = parse_page(self._client.connection.tenant, self._get(params, request))
        self.stats.add("pages")
        return page

    def _get(self, params: dict[str, Any], request: CallCounters | None) -> Any:
        counters = (self._client.stats, self.stats) + ((request,) if request is not None else ())
        return self._client._get(params, counters)


class _Reads:
    """The reads of a sliced extraction: its pages, and the small probes that plan the slices."""

    def __init__(self, extraction: CustomerExtraction) -> None:
        self._extraction = extraction

    def page(self, q: str | None, request: CallCounters, *, total: bool = False) -> ReadPage:
        return self._extraction._fetch(q, request, total=total)

    def count(self, q: str | None, request: CallCounters) -> int | None:
        """The pod's estimate of the rows matching `q` (None if it sends none)."""
        params: dict[str, Any] = {"limit": 1, "onlyData": "true", "fields": _KEYS, "totalResults": "true"}
        if q is not None:
            params["q"] = q
        return self._probe(params, request).total

    def latest(self, q: str | None, request: CallCounters) -> datetime | None:
        """The largest LastUpdateDate matching `q` (None when nothing matches)."""
        params: dict[str, Any] = {
            "orderBy": "LastUpdateDate:desc,PartyId:desc",
            "limit": 1,
            "onlyData": "true",
            "fields": _KEYS,
        }
        if q is not None:
            params["q"] = q
        rows = self._probe(params, request).rows
        return rows[0].last_update_date if rows else None

    def _probe(self, params: dict[str, Any], request: CallCounters) -> ReadPage:
        response = self._extraction._get(params, request)
        return read_page(self._extraction._client.connection.tenant, response.content)
