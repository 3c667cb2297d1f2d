"""Derived display fields Fusion computes from their parts: FormattedAddress and FormattedPhoneNumber."""

import unicodedata
from functools import lru_cache

_POSTAL_FIRST = frozenset({"DE", "FR", "ES", "NL", "SE", "BR"})
# Letters NFKD does not decompose into a base letter, spelled as they are in addresses.
_UNFOLDED = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "Oe", "ł": "l"}
)


def format_address(
    country: str | None,
    line1: str | None,
    line2: str | None,
    city: str | None,
    region: str | None,
    postal_code: str | None,
) -> str | None:
    """One-line address the way Fusion's FormattedAddress reads: city upper-cased, local postal order."""
    city_text = city.upper() if city else None
    street = ", ".join(filter(None, (line1, line2)))
    if country in _POSTAL_FIRST:
        parts: tuple[str | None, ...] = (street, " ".join(filter(None, (postal_code, city_text))))
    elif country == "GB":
        parts = (street, " ".join(filter(None, (city_text, postal_code))))
    else:
        parts = (street, city_text, " ".join(filter(None, (region, postal_code))))
    text = ", ".join(filter(None, parts))
    return text or None


def format_phone(country_code: str | None, area_code: str | None, number: str | None) -> str | None:
    if not number:
        return None
    if country_code == "1" and area_code and len(number) == 7:
        return f"+1 ({area_code}) {number[:3]}-{number[3:]}"
    prefix = f"+{country_code} " if country_code else ""
    area = f"{area_code} " if area_code else ""
    return f"{prefix}{area}{number}"


@lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """`Müller & Söhne` -> `muller-sohne`: the part of a name that can become an email domain."""
    folded = (
        unicodedata.normalize("NFKD", text.translate(_UNFOLDED))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    return "-".join(words)
