"""Typed sensor cursors, serialised as JSON: one entry per tenant."""

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

C = TypeVar("C", bound=BaseModel)


class OracleChangeCursor(BaseModel):
    """Per tenant, the high-water mark a run was last requested for (so a mark is requested once)."""

    requested: dict[str, str] = {}


class AudienceEventsCursor(BaseModel):
    """Per tenant, the `last_changed` of the newest audience change already recorded."""

    since: dict[str, datetime] = {}


def load_cursor(kind: type[C], raw: str | None) -> C:
    return kind.model_validate_json(raw) if raw else kind()
