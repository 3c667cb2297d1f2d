"""Customer pages as the pod sends them: the fields asked for, and each page read back row by row.

A page is validated strictly (a JSON number is not a string, nothing is coerced) in one pass; only when
that fails is it read row by row, so that one malformed row is quarantined as a `QuarantinedRow`
instead of failing the page. An unusable keyset field (PartyId, LastUpdateDate) stops the read with a
`FusionKeysetError` naming the row; an envelope that does not fit, with a `FusionResponseError`.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from oracle_mailchimp_dagster.fusion.errors import FusionKeysetError, FusionResponseError
from oracle_mailchimp_dagster.fusion.records import (
    CUSTOMER_FIELDS,
    CustomerPage,
    FusionCustomer,
    FusionTimestamp,
    QuarantinedRow,
)

# The `fields` parameter of every customer read: only what FusionCustomer maps.
FIELDS = ",".join(CUSTOMER_FIELDS)
KEYSET_ATTRIBUTES = frozenset({"PartyId", "LastUpdateDate"})
_MAX_VALUE = 60  # characters of a bad value quoted in a reason
_MAX_PROBLEMS = 3  # problems spelled out per row; the rest are counted
_ATTRIBUTE_NAMES = {name: name for name in CUSTOMER_FIELDS}  # one string object per attribute
_EXPECTED = (("string", "a string"), ("int", "an integer"), ("datetime", "an ISO 8601 timestamp"))

PageRow = FusionCustomer | QuarantinedRow


@dataclass(frozen=True, slots=True)
class ReadPage:
    """One page as read: every row in server order, valid or quarantined, whether more follow, and
    the pod's estimate of all the rows matching (when asked for with `totalResults=true`)."""

    rows: tuple[PageRow, ...]
    has_more: bool
    total: int | None = None

    @property
    def customers(self) -> list[FusionCustomer]:
        return [row for row in self.rows if isinstance(row, FusionCustomer)]

    @property
    def quarantined(self) -> list[QuarantinedRow]:
        return [row for row in self.rows if isinstance(row, QuarantinedRow)]


class _RawPage(BaseModel):
    """The envelope alone, its rows left as JSON values."""

    model_config = ConfigDict(extra="ignore")

    items: list[Any]
    has_more: bool = Field(alias="hasMore")
    total_results: int | None = Field(default=None, alias="totalResults")


class _RowKeys(BaseModel):
    """The keyset of a quarantined row, whose keyset fields passed the strict pass."""

    model_config = ConfigDict(extra="ignore")

    party_id: int = Field(alias="PartyId")
    last_update_date: FusionTimestamp = Field(alias="LastUpdateDate")


def parse_page(tenant: str, response: requests.Response) -> ReadPage:
    """The page in a response (see `read_page`)."""
    return read_page(tenant, response.content)


def read_page(tenant: str, content: bytes) -> ReadPage:
    """The rows of a page body, malformed ones quarantined; raises on an unusable keyset or envelope."""
    try:
        page = CustomerPage.model_validate_json(content, strict=True)
    except ValidationError as exc:
        faults = _row_faults(tenant, exc)
    else:
        return ReadPage(tuple(page.items), page.has_more, page.total_results)
    raw = _RawPage.model_validate_json(content)
    rows: list[PageRow] = []
    for index, row in enumerate(raw.items):
        problems = faults.get(index)
        if problems is None:
            # It passed the strict pass: lax validation of the same JSON values reads exactly the same.
            rows.append(FusionCustomer.model_validate(row))
        else:
            rows.append(_quarantined(tenant, index, row, problems))
    return ReadPage(tuple(rows), raw.has_more, raw.total_results)


def _row_faults(tenant: str, exc: ValidationError) -> dict[int, list[ErrorDetails]]:
    """The strict pass's errors by row index; an error outside the rows fails the page."""
    faults: dict[int, list[ErrorDetails]] = defaultdict(list)
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if len(loc) < 2 or loc[0] != "items" or not isinstance(loc[1], int):
            where = ".".join(str(part) for part in loc)
            raise FusionResponseError(tenant, f"unexpected customer page ({where}: {error['msg']})") from None
        faults[loc[1]].append(error)
    return faults


def _quarantined(tenant: str, index: int, row: Any, errors: list[ErrorDetails]) -> QuarantinedRow:
    if not isinstance(row, dict):
        problem = f"the row is {_value(row)}, not an object"
        raise FusionKeysetError(tenant, index=index, party_number=None, field="row", problem=problem)
    number = row.get("PartyNumber")
    party_number = number if isinstance(number, str) else None
    problems: dict[str, str] = {}
    for error in errors:
        attribute = ".".join(str(part) for part in error["loc"][2:])
        problems.setdefault(_ATTRIBUTE_NAMES.get(attribute, attribute), _problem(attribute, error))
    for attribute, problem in problems.items():
        if attribute in KEYSET_ATTRIBUTES:
            raise FusionKeysetError(
                tenant, index=index, party_number=party_number, field=attribute, problem=problem
            )
    keys = _RowKeys.model_validate(row)
    said = list(problems.values())
    reason = "; ".join(said[:_MAX_PROBLEMS])
    if len(said) > _MAX_PROBLEMS:
        reason += f"; and {len(said) - _MAX_PROBLEMS} more"
    return QuarantinedRow(keys.party_id, keys.last_update_date, party_number, tuple(problems), reason)


def _problem(attribute: str, error: ErrorDetails) -> str:
    """`PostalCode: expected a string, got a number (94065)`: the attribute, what it must be, what came."""
    kind = error["type"]
    if kind == "missing":
        return f"{attribute}: missing"
    expected = next((text for prefix, text in _EXPECTED if kind.startswith(prefix)), None)
    if expected is None:
        return f"{attribute}: {error['msg']}, got {_value(error['input'])}"
    return f"{attribute}: expected {expected}, got {_value(error['input'])}"


def _value(value: Any) -> str:
    """A JSON value by its kind, and itself cut to `_MAX_VALUE` characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int | float):
        kind = "a number"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, list):
        kind = "a list"
    elif isinstance(value, dict):
        kind = "an object"
    else:  # pragma: no cover - JSON has no other kinds
        kind = type(value).__name__
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        text = repr(value)
    if len(text) > _MAX_VALUE:
        text = text[: _MAX_VALUE - 1] + "…"
    return f"{kind} ({text})"
