"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases.

    PostgreSQL stores `timestamp with time zone`; SQLite stores naive UTC text (SQLAlchemy's fixed-width
    ISO format with microseconds, so text order is time order). Naive datetimes are refused on the way
    in, because silently guessing a zone is how high-water marks drift by hours.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone; pass an aware UTC datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def big_integer_pk() -> sa.types.TypeEngine[int]:
    """BIGINT on PostgreSQL, INTEGER on SQLite (only `INTEGER PRIMARY KEY` autoincrements there)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
