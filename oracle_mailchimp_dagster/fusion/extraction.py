"""One keyset-paged pass over the customers changed in a window, streamed with one page prefetched.

Malformed rows are not yielded: they are kept aside as `quarantined` (the cursor moves past them).
"""

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from oracle_mailchimp_dagster.fusion.errors import FusionResponseError
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager, NoProgressError
from oracle_mailchimp_dagster.fusion.pages import FIELDS, ReadPage, parse_page
from oracle_mailchimp_dagster.fusion.query import ORDER_BY, CustomerCursor
from oracle_mailchimp_dagster.fusion.records import FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.http import CallCounters

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.fusion.client import FusionClient


class CustomerExtraction:
    """One pass over the customers changed in a window; iterate once, then read `stats`, `cursor` and
    `quarantined`.

    Rows stream page by page (the next page is requested while the current one is consumed), so
    memory holds at most two pages whatever the window size, plus the small quarantined rows.
    """

    def __init__(self, client: "FusionClient", pager: KeysetPager, resume: CustomerCursor | None) -> None:
        self._client = client
        self._pager = pager
        self._resume = resume
        self._started = False
        self.stats = CallCounters()
        self.since = pager.since
        self.until = pager.until
        self._quarantined: list[QuarantinedRow] = []

    @property
    def cursor(self) -> CustomerCursor | None:
        """Where a later extraction may resume: the last (LastUpdateDate, PartyId) read, never before
        the mark this one resumed from (a look-back re-read does not move it backwards)."""
        seen = self._pager.cursor
        if self._resume is None or seen is None:
            return seen or self._resume
        return max(seen, self._resume)

    @property
    def quarantined(self) -> tuple[QuarantinedRow, ...]:
        """The rows read so far that did not validate, in keyset order (each once, like the others)."""
        return tuple(self._quarantined)

    def __iter__(self) -> Iterator[FusionCustomer]:
        if self._started:
            raise RuntimeError("a CustomerExtraction can be iterated only once")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[FusionCustomer]:
        pager = self._pager
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fusion-prefetch") as prefetch:
            pending: Future[ReadPage] = prefetch.submit(self._fetch, pager.next_q())
            try:
                while True:
                    page = pending.result()
                    try:
                        result = pager.accept(page.rows, page.has_more)
                    except NoProgressError as exc:
                        raise FusionResponseError(self._client.connection.tenant, str(exc)) from None
                    if not pager.done:
                        pending = prefetch.submit(self._fetch, pager.next_q())
                    customers = [row for row in result.new_rows if isinstance(row, FusionCustomer)]
                    quarantined = [row for row in result.new_rows if isinstance(row, QuarantinedRow)]
                    self.stats.add("records", len(customers))
                    if quarantined:
                        self._quarantined.extend(quarantined)
                        self.stats.add("quarantined", len(quarantined))
                    if result.dropped:
                        self.stats.add("duplicates_dropped", result.dropped)
                    yield from customers
                    if pager.done:
                        return
            finally:
                pending.cancel()

    def _fetch(self, q: str | None) -> ReadPage:
        params: dict[str, Any] = {
            "orderBy": ORDER_BY,
            "limit": self._pager.page_size,
            "onlyData": "true",
            "fields": FIELDS,
        }
        if q is not None:
            params["q"] = q
        response = self._client._get(params, (self._client.stats, self.stats))
        self.stats.add("pages")
        return parse_page(self._client.connection.tenant, response)
