"""Customer identity and the sort key of the (LastUpdateDate, PartyId) index.

Each customer lives in a numbered slot. PartyId and PartyNumber are pure functions of the slot and grow
with it (as Oracle's sequences do), so PartyId order is slot order, and the index key packs
(LastUpdateDate ms, slot) into one unsigned 64-bit integer that sorts exactly like (LastUpdateDate, PartyId).
"""

import re

PARTY_ID_BASE = 300_000_010_000_000
PARTY_ID_STRIDE = 20
PARTY_NUMBER_BASE = 100_000
SLOT_BITS = 22
SLOT_MASK = (1 << SLOT_BITS) - 1
MAX_SLOTS = 1 << SLOT_BITS
MAX_KEY = (1 << 64) - 1
MAX_TIMESTAMP_MS = (1 << (64 - SLOT_BITS)) - 1

_PARTY_NUMBER = re.compile(r"CDRM_(\d{1,12})")


def party_id(slot: int) -> int:
    return PARTY_ID_BASE + PARTY_ID_STRIDE * slot


def party_number(slot: int) -> str:
    return f"CDRM_{PARTY_NUMBER_BASE + 2 * slot}"


def contact_party_id(slot: int) -> int:
    """The primary contact (a person party) is created right after its organization."""
    return PARTY_ID_BASE + PARTY_ID_STRIDE * slot + 7


def contact_party_number(slot: int) -> str:
    return f"CDRM_{PARTY_NUMBER_BASE + 2 * slot + 1}"


def identifiers(slot: int) -> tuple[int, str, int, str]:
    """(PartyId, PartyNumber, contact PartyId, contact PartyNumber) in one call, for the generator."""
    number = PARTY_NUMBER_BASE + 2 * slot
    party = PARTY_ID_BASE + PARTY_ID_STRIDE * slot
    return party, f"CDRM_{number}", party + 7, f"CDRM_{number + 1}"


def slot_of_party_number(value: str) -> int | None:
    """The slot an organization PartyNumber names, or None if no organization can have it."""
    match = _PARTY_NUMBER.fullmatch(value)
    if match is None:
        return None
    offset = int(match[1]) - PARTY_NUMBER_BASE
    if offset < 0 or offset % 2:
        return None
    return offset // 2


def slot_of_party_id(value: int) -> int | None:
    offset = value - PARTY_ID_BASE
    if offset < 0 or offset % PARTY_ID_STRIDE:
        return None
    return offset // PARTY_ID_STRIDE


def first_slot_with_party_id_above(value: int, inclusive: bool) -> int:
    """Smallest slot whose PartyId is > value (>= when inclusive); may be negative or huge."""
    offset = value - PARTY_ID_BASE
    if inclusive:
        return -(-offset // PARTY_ID_STRIDE)
    return offset // PARTY_ID_STRIDE + 1


def last_slot_with_party_id_below(value: int, inclusive: bool) -> int:
    """Largest slot whose PartyId is < value (<= when inclusive); may be negative or huge."""
    offset = value - PARTY_ID_BASE
    if inclusive:
        return offset // PARTY_ID_STRIDE
    return -(-offset // PARTY_ID_STRIDE) - 1


def index_key(last_update_ms: int, slot: int) -> int:
    return (last_update_ms << SLOT_BITS) | slot
