"""Offset paging, the one loop behind every paged Mailchimp read."""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

# The most rows Mailchimp returns per page (`count`).
MAX_PAGE = 1000

ReadPage = Callable[[int], Mapping[str, Any]]


def offset_pages(
    read_page: ReadPage, items: str, *, page_size: int = MAX_PAGE, overlap: int | None = None
) -> Iterator[list[Any]]:
    """The `items` of each page `read_page(offset)` returns, page after page.

    Without `overlap` (a set that holds still while read: merge fields, segments), pages follow one
    another and end at an empty page or once `total_items` rows are read. With `overlap` (a set that
    moves while read: members by `last_changed`), each page starts `overlap` rows before the previous
    one ended (always at least one row further on) and a page shorter than `page_size` is the last;
    telling re-read rows apart is the caller's.
    """
    offset = 0
    while True:
        body = read_page(offset)
        page = list(body.get(items) or [])
        yield page
        if overlap is None:
            offset += len(page)
            if not page or offset >= int(body.get("total_items") or 0):
                return
        else:
            if len(page) < page_size:
                return
            offset += max(len(page) - overlap, 1)
