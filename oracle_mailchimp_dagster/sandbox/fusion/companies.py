"""Which company customer `slot` is: its country, its name, and an email domain no other customer has.

A real customer master of a million companies has about a million company domains, so addresses at them
rarely repeat. Drawing names at random cannot give that (a few thousand plain names would be shared by
hundreds each), so every customer gets a registration number instead: a keyed permutation of the slots
[0, size), which keeps neighbouring slots unrelated (slots added later keep their own number, >= size).
Its last digits in base `CELLS` pick the country (by weight) and the name pattern; the rest counts the
companies of that country and pattern, and that count picks the plain name (`Summit Logistics`) and `k`:
how many companies registered that plain name before this one. The domain is the plain name's slug, the
qualifier the k-th holder added (`-co`, `-inc`, ..., then a number) and the country's zone. Each step is
a bijection and, within a country, distinct plain names have distinct slugs, so no two customers share a
domain (tests/sandbox/test_generator_realism.py checks those premises).
"""

import hashlib
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

from oracle_mailchimp_dagster.sandbox.fusion import pools, pools_names
from oracle_mailchimp_dagster.sandbox.fusion.formatting import ascii_slug
from oracle_mailchimp_dagster.sandbox.fusion.pools import CountryProfile


@lru_cache(maxsize=4096)
def name_slug(text: str) -> str:
    """The ASCII slug a name registers its domain under (romanised when it has no Latin letters)."""
    return ascii_slug(text) or pools_names.ROMAJI.get(text, "")


def _brands() -> tuple[str, ...]:
    """The listed brands, then every prefix+root compound whose slug is not taken yet."""
    by_slug: dict[str, str] = {}
    compounds = (
        f"{prefix}{root}"
        for prefix in pools_names.BRAND_PREFIXES
        for root in pools_names.BRAND_ROOTS
        if prefix.lower() != root
    )
    for brand in (*pools_names.BRANDS, *compounds):
        by_slug.setdefault(name_slug(brand), brand)
    return tuple(by_slug.values())


BRANDS = _brands()
BRAND_SLUGS = tuple(name_slug(b) for b in BRANDS)
INDUSTRIES = pools_names.INDUSTRIES
INDUSTRY_WORDS = tuple(name_slug(i).split("-")[0] for i in INDUSTRIES)
QUALIFIERS = ("", *(f"-{q}" for q in pools_names.DOMAIN_QUALIFIERS))

# Name patterns: 0 `Brand Industry`, 1 `Surname Industry`, 2 `Surname & Surname`, 3 `Brand`.
PATTERN_CYCLE = (0, 1, 0, 1, 0, 1, 2, 3)


@lru_cache(maxsize=64)
def _stride(size: int) -> int:
    """A step near size / golden ratio that visits every entry of a block of this size once."""
    stride = max(1, round(size * 0.6180339887))
    while math.gcd(stride, size) != 1:
        stride += 1
    return stride


@dataclass(frozen=True)
class CountryNames:
    """A country's plain company names and what its addresses are built from.

    Plain names come in blocks, one per pattern: entry e of block 0 is brand e % B with industry e // B,
    of block 1 surname e % S with industry e // S, of block 2 surnames e % S and e // S (skipping itself),
    of block 3 brand e. Surnames that register alike (`Tanaka`, `田中`) are one surname with two spellings.
    """

    country: CountryProfile
    zone: str
    surnames: tuple[tuple[str, ...], ...]
    surname_slugs: tuple[str, ...]
    sizes: tuple[int, int, int, int]
    tails: tuple[str, ...]  # each qualifier, then the zone
    # Contact `first_names[i]` `surnames[j]` at index i * len(surnames) + j: (name, mailbox).
    contacts: tuple[tuple[str, str], ...]

    def plain_slugs(self) -> list[str]:
        """Every plain name's slug, block by block (for the uniqueness checks)."""
        s = self.surname_slugs
        return [
            *(f"{b}-{i}" for i in INDUSTRY_WORDS for b in BRAND_SLUGS),
            *(f"{n}-{i}" for i in INDUSTRY_WORDS for n in s),
            *(f"{s[a]}-{s[o + (o >= a)]}" for o in range(len(s) - 1) for a in range(len(s))),
            *BRAND_SLUGS,
        ]


def _country_names(country: CountryProfile) -> CountryNames:
    groups: dict[str, list[str]] = {}
    for surname in country.surnames:
        groups.setdefault(name_slug(surname), []).append(surname)
    count, zone = len(groups), pools_names.DOMAIN_ZONES[country.code]
    return CountryNames(
        country,
        zone,
        tuple(tuple(v) for v in groups.values()),
        tuple(groups),
        (len(BRANDS) * len(INDUSTRIES), count * len(INDUSTRIES), count * (count - 1), len(BRANDS)),
        tuple(f"{q}.{zone}" for q in QUALIFIERS),
        tuple(
            (f"{first} {last}", ".".join(filter(None, (name_slug(first), name_slug(last)))))
            for first in country.first_names
            for last in country.surnames
        ),
    )


COUNTRY_NAMES = {c.code: _country_names(c) for c in pools.COUNTRIES}

# Cell t of the number (its value mod CELLS), with T = len(COUNTRY_TABLE): country COUNTRY_TABLE[t % T],
# pattern PATTERN_CYCLE[t // T].
# A (country, pattern) owns weight * (its share of the cycle) cells; `rank` is t's place among them.
CELLS = len(pools.COUNTRY_TABLE) * len(PATTERN_CYCLE)
_CELL_OWNERS = tuple(
    (pools.COUNTRY_TABLE[t % len(pools.COUNTRY_TABLE)].code, PATTERN_CYCLE[t // len(pools.COUNTRY_TABLE)])
    for t in range(CELLS)
)
_CELLS_OWNED = {owner: _CELL_OWNERS.count(owner) for owner in set(_CELL_OWNERS)}


def _ranks() -> tuple[int, ...]:
    seen: dict[tuple[str, int], int] = {}
    ranks = []
    for owner in _CELL_OWNERS:
        ranks.append(seen.get(owner, 0))
        seen[owner] = ranks[-1] + 1
    return tuple(ranks)


_CELL_RANK = _ranks()
_MUL = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9)
_BRANDS, _QUALIFIERS = len(BRANDS), len(QUALIFIERS)

# Per cell: names, pattern, block size, cells owned, rank, the seed's start in the block, stride, tails.
_Cell = tuple[CountryNames, int, int, int, int, int, int, tuple[str, ...]]


class CompanyRegistry:
    """Customer `slot` of a population of `size` as a company: country, name and its own domain."""

    def __init__(self, seed: int, size: int) -> None:
        self.size = size
        bits = max(2, (size - 1).bit_length())  # so the walk below takes under 2 steps on average
        mask = (1 << bits) - 1
        key = hashlib.blake2b(struct.pack("<q", seed), digest_size=32, person=b"registry").digest()
        add, xor = (int.from_bytes(half, "little") & mask for half in (key[:8], key[8:16]))
        # (mask, shift, add, xor, a, b): x -> ((x ^ xor) * a + add) & mask, then x ^= x >> shift, ...
        self._key = (mask, (bits + 1) // 2, add, xor, *(m & mask | 1 for m in _MUL))
        # Each seed starts each block somewhere else, so small sandboxes of two seeds use other names.
        starts = {
            owner: int.from_bytes(hashlib.blake2b(f"{owner}".encode(), key=key[16:]).digest()[:8], "little")
            for owner in _CELLS_OWNED
        }
        cells: list[_Cell] = []
        for t, (code, pattern) in enumerate(_CELL_OWNERS):
            names = COUNTRY_NAMES[code]
            size = names.sizes[pattern]
            owned, start, stride = _CELLS_OWNED[code, pattern], starts[code, pattern] % size, _stride(size)
            cells.append((names, pattern, size, owned, _CELL_RANK[t], start, stride, names.tails))
        self._cells = tuple(cells)

    def number(self, slot: int) -> int:
        """A keyed bijection of [0, size) onto itself (cycle-walking a bijection of [0, 2^bits))."""
        size = self.size
        if slot >= size:
            return slot
        mask, shift, add, xor, a, b = self._key
        x = slot
        while True:
            x = ((x ^ xor) * a + add) & mask
            x ^= x >> shift
            x = (x * b) & mask
            x ^= x >> shift
            if x < size:
                return x

    def company(self, slot: int, pick: int) -> tuple[CountryNames, str, str]:
        """(country, name without legal suffix, email domain); `pick` chooses among spellings."""
        number = slot
        if slot < self.size:  # self.number(slot), inline: this runs for every record served
            mask, shift, add, xor, a, b = self._key
            while True:
                number = ((number ^ xor) * a + add) & mask
                number ^= number >> shift
                number = (number * b) & mask
                number ^= number >> shift
                if number < self.size:
                    break
        names, pattern, size, owned, rank, start, stride, tails = self._cells[number % CELLS]
        # This company is the serial-th of its country and pattern; k companies had its plain name before.
        serial = number // CELLS * owned + rank + start
        entry, k = serial % size * stride % size, serial // size
        if pattern == 0:
            brand, industry = entry % _BRANDS, entry // _BRANDS
            name = f"{BRANDS[brand]} {INDUSTRIES[industry]}"
            slug = f"{BRAND_SLUGS[brand]}-{INDUSTRY_WORDS[industry]}"
        elif pattern == 3:
            name, slug = BRANDS[entry], BRAND_SLUGS[entry]
        else:
            slugs = names.surname_slugs
            first, second = entry % len(slugs), entry // len(slugs)
            spellings = names.surnames[first]
            surname = spellings[pick % len(spellings)]
            if pattern == 1:
                name = f"{surname} {INDUSTRIES[second]}"
                slug = f"{slugs[first]}-{INDUSTRY_WORDS[second]}"
            else:
                second += second >= first
                others = names.surnames[second]
                name = f"{surname} & {others[(pick >> 1) % len(others)]}"
                slug = f"{slugs[first]}-{slugs[second]}"
        if k < _QUALIFIERS:
            return names, name, slug + tails[k]
        return names, name, f"{slug}{QUALIFIERS[k % _QUALIFIERS]}{k // _QUALIFIERS + 1}.{names.zone}"
