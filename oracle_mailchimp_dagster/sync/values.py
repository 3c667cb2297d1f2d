"""Convert Oracle values to what a Mailchimp merge field of a given type accepts (never null)."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.model import ListField

ADDRESS_LINE_MAX = 45
PHONE_MAX = 50
_DATE_FORMATS = {"MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y", "YYYY-MM-DD": "%Y-%m-%d"}
_BIRTHDAY_FORMATS = {"MM/DD": "%m/%d", "DD/MM": "%d/%m"}


class ConversionError(ValueError):
    """The value cannot be sent as this merge field's type."""


def _text(value: Any, limit: int) -> str | None:
    text = " ".join(str(value).split())
    return text[:limit] or None


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).strip()).date()
    except ValueError:
        raise ConversionError(f"{value!r} is not a date") from None


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ConversionError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ConversionError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ConversionError(f"{value!r} is not a number")
    return int(number) if number == number.to_integral_value() else float(number)


def convert_value(value: Any, field: ListField, text_limit: int) -> Any:
    """The JSON value for `field`, or None to leave the field out. Raises ConversionError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = field.type
    if kind == "number":
        return _number(value)
    if kind in ("date", "birthday"):
        formats = _BIRTHDAY_FORMATS if kind == "birthday" else _DATE_FORMATS
        default = "MM/DD" if kind == "birthday" else "YYYY-MM-DD"
        pattern = formats.get(field.date_format.upper(), formats[default])
        return _as_date(value).strftime(pattern)
    if kind == "address":
        if not isinstance(value, dict):
            raise ConversionError("an address field needs the composed billing address")
        return value
    if kind == "phone":
        return _text(value, PHONE_MAX)
    if kind in ("radio", "dropdown"):
        text = _text(value, text_limit)
        if field.choices and text not in field.choices:
            raise ConversionError(f"{text!r} is not one of the field's choices")
        return text
    return _text(value, text_limit)


def compose_address(customer: Customer) -> dict[str, str] | None:
    """Mailchimp's ADDRESS object from the primary address, or None when incomplete.

    addr1, city, state (or province) and zip are required together; a partial address is left
    out rather than sent, because Mailchimp rejects it and keeps rejecting later updates.
    """

    def part(*values: str | None) -> str:
        for raw in values:
            if raw is not None and str(raw).strip():
                return " ".join(str(raw).split())[:ADDRESS_LINE_MAX]
        return ""

    c = customer
    address = {
        "addr1": part(c.address_line1),
        "addr2": " ".join(
            p for p in (part(c.address_line2), part(c.address_line3), part(c.address_line4)) if p
        )[:ADDRESS_LINE_MAX],
        "city": part(c.city),
        "state": part(c.state, c.province),
        "zip": part(c.postal_code),
        "country": part(c.country).upper()[:2],
    }
    if not all(address[k] for k in ("addr1", "city", "state", "zip")):
        return None
    return {k: v for k, v in address.items() if v}
