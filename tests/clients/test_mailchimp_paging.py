"""The one offset-paging loop: which offsets it asks for, and when it stops."""

from typing import Any

from oracle_mailchimp_dagster.mailchimp.paging import offset_pages


class Pages:
    """A fake paged read over `rows`: records each offset asked for."""

    def __init__(self, rows: list[int], count: int, total: int | None = None) -> None:
        self.rows, self.count, self.total = rows, count, total
        self.offsets: list[int] = []

    def __call__(self, offset: int) -> dict[str, Any]:
        self.offsets.append(offset)
        page = self.rows[offset : offset + self.count]
        return {"items": page, "total_items": len(self.rows) if self.total is None else self.total}


def test_a_still_set_is_read_page_after_page_until_total_items() -> None:
    read = Pages(list(range(25)), count=10)
    assert [row for page in offset_pages(read, "items") for row in page] == list(range(25))
    assert read.offsets == [0, 10, 20]


def test_a_still_set_stops_at_an_empty_page_even_if_total_items_says_more() -> None:
    read = Pages(list(range(10)), count=10, total=50)
    assert list(offset_pages(read, "items")) == [list(range(10)), []]
    assert read.offsets == [0, 10]


def test_a_moving_set_overlaps_pages_and_stops_at_a_short_page() -> None:
    read = Pages(list(range(25)), count=10)
    pages = list(offset_pages(read, "items", page_size=10, overlap=2))
    assert read.offsets == [0, 8, 16]
    assert pages[1][:2] == [8, 9] and pages[-1] == list(range(16, 25))


def test_a_moving_set_without_overlap_moves_at_least_one_row() -> None:
    read = Pages(list(range(3)), count=1)
    assert list(offset_pages(read, "items", page_size=1, overlap=1)) == [[0], [1], [2], []]
    assert read.offsets == [0, 1, 2, 3]
