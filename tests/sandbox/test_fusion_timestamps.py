"""Oracle timestamp literals and the wire format (pure)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sandbox.fusion.timestamps import format_timestamp, parse_timestamp, to_millis

BASE = to_millis(datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2024-01-01", BASE),
        ("2024-01-01T00:00Z", BASE),
        ("2024-01-01T00:00:00Z", BASE),
        ("2024-01-01T00:00:00.000+00:00", BASE),
        ("2024-01-01T10:30:15.123Z", BASE + (10 * 3600 + 30 * 60 + 15) * 1000 + 123),
        ("2024-01-01T10:30:15.1239999Z", BASE + (10 * 3600 + 30 * 60 + 15) * 1000 + 123),
        ("2024-01-01T10:30:15.5", BASE + (10 * 3600 + 30 * 60 + 15) * 1000 + 500),
        ("2024-01-01T02:00:00+02:00", BASE),
        ("2023-12-31T18:30:00-0530", BASE),
        ("2024-01-01T00:00", BASE),
    ],
)
def test_parses_every_documented_literal_form(literal: str, expected: int) -> None:
    assert parse_timestamp(literal) == expected


@pytest.mark.parametrize(
    "literal",
    ["2024-1-1", "2024-01-01 10:00", "2024-01-01Z", "yesterday", "2024-13-01", "2024-01-01T25:00Z", "2024"],
)
def test_rejects_anything_else(literal: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(literal)


def test_formats_like_fusion() -> None:
    assert format_timestamp(parse_timestamp("2020-07-17T12:57:05.744Z")) == "2020-07-17T12:57:05.744+00:00"


@given(st.integers(min_value=0, max_value=to_millis(datetime(2100, 1, 1, tzinfo=UTC))))
def test_format_then_parse_is_identity_at_millisecond_precision(ms: int) -> None:
    assert parse_timestamp(format_timestamp(ms)) == ms
