"""Merge-field values: per-type normalisation and the checks behind `Your merge fields were invalid.` (§5.3).

Pure: given the audience's fields, the values in the request and the values already stored, it returns the
values to store and the errors, one per field, in Mailchimp's wording.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from oracle_mailchimp_dagster.sandbox.mailchimp.models import MergeField
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import FieldError

ADDRESS_REQUIRED = ("addr1", "city", "state", "zip")
ADDRESS_KEYS = ("addr1", "addr2", "city", "state", "zip", "country")
COUNTRY_CODES = {164: "US", 38: "CA", 262: "GB", 81: "DE", 74: "FR", 13: "AU"}

PLEASE_ENTER_A_VALUE = "Please enter a value"
INCOMPLETE_ADDRESS = "Please enter a complete address"
BAD_BIRTHDAY = "Please enter a month (01-12) and a day (01-31)"
BAD_DATE = "Please enter the date"
BAD_NUMBER = "Please enter a number"
BAD_CHOICE = "Please choose one of the available options"

_DATE_FORMATS = {
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "YYYY/MM/DD": "%Y/%m/%d",
    "YYYY-MM-DD": "%Y-%m-%d",
}
_BIRTHDAY = re.compile(r"^(\d{2})/(\d{2})$")
_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class MergeOutcome:
    """What to store (only the tags the request sent) and what was wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {}


def address_is_complete(value: Any) -> bool:
    return isinstance(value, Mapping) and all(str(value.get(k) or "").strip() for k in ADDRESS_REQUIRED)


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        text = value.strip()
        return float(text) if "." in text else int(text)
    raise _Invalid(BAD_NUMBER)


def _address(value: Any, merge_field: MergeField) -> dict[str, str]:
    if not address_is_complete(value):
        raise _Invalid(INCOMPLETE_ADDRESS)
    country_id = merge_field.options.get("default_country", 164)
    address = {k: _as_text(value.get(k) or "").strip() for k in ADDRESS_KEYS}
    address["country"] = address["country"] or COUNTRY_CODES.get(country_id, "US")
    return address


def _birthday(value: Any, merge_field: MergeField) -> str:
    match = _BIRTHDAY.fullmatch(_as_text(value).strip())
    if not match:
        raise _Invalid(BAD_BIRTHDAY)
    first, second = int(match.group(1)), int(match.group(2))
    month, day = (second, first) if merge_field.options.get("date_format") == "DD/MM" else (first, second)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise _Invalid(BAD_BIRTHDAY)
    return match.group(0)


def _date(value: Any, merge_field: MergeField) -> str:
    text = _as_text(value).strip()
    pattern = _DATE_FORMATS.get(str(merge_field.options.get("date_format", "MM/DD/YYYY")), "%m/%d/%Y")
    try:
        datetime.strptime(text, pattern)
    except ValueError:
        raise _Invalid(BAD_DATE) from None
    return text


def _text(value: Any, max_len: int, too_long: str) -> str:
    text = _as_text(value)
    if len(text) > max_len:
        if too_long == "error":
            raise _Invalid(f"Please enter a value with {max_len} characters or fewer")
        return text[:max_len]
    return text


def normalise(
    value: Any, merge_field: MergeField, text_max_len: int = 255, text_too_long: str = "truncate"
) -> Any:
    """The stored form of one non-empty value; raises `_Invalid` with Mailchimp's message."""
    kind = merge_field.type
    if kind == "address":
        return _address(value, merge_field)
    if kind == "number":
        return _number(value)
    if kind == "birthday":
        return _birthday(value, merge_field)
    if kind == "date":
        return _date(value, merge_field)
    if kind in ("radio", "dropdown"):
        text = _as_text(value)
        if text not in merge_field.options.get("choices", []):
            raise _Invalid(BAD_CHOICE)
        return text
    return _text(value, text_max_len, text_too_long)


def validate_merge_fields(
    fields: Mapping[int, MergeField],
    requested: Mapping[str, Any],
    stored: Mapping[str, Any],
    *,
    creating: bool,
    skip_required: bool = False,
    text_max_len: int = 255,
    text_too_long: Literal["truncate", "error"] = "truncate",
) -> MergeOutcome:
    """Check the request's values against the audience's fields and the member's stored values.

    Unknown tags are ignored. ADDRESS is all-or-nothing, also for a stored value the request does not touch.
    `skip_required` (`skip_merge_validation=true`) skips only the required-field check.
    """
    outcome = MergeOutcome()
    for merge_field in sorted(fields.values(), key=lambda f: (f.display_order, f.merge_id)):
        tag = merge_field.tag
        if tag in requested:
            value = requested[tag]
            if is_empty(value):
                outcome.values[tag] = ""
            else:
                try:
                    outcome.values[tag] = normalise(value, merge_field, text_max_len, text_too_long)
                except _Invalid as exc:
                    outcome.errors.append(FieldError(tag, exc.message))
                    continue
        elif creating and merge_field.default_value:
            outcome.values[tag] = merge_field.default_value
        effective = outcome.values[tag] if tag in outcome.values else stored.get(tag, "")
        if merge_field.required and not skip_required and is_empty(effective):
            outcome.errors.append(FieldError(tag, PLEASE_ENTER_A_VALUE))
        elif merge_field.type == "address" and not is_empty(effective) and not address_is_complete(effective):
            outcome.errors.append(FieldError(tag, INCOMPLETE_ADDRESS))
    return outcome
