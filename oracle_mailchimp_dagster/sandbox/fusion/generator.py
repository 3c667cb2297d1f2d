"""Deterministic customer data: record `i` of seed `s` is always the same, and costs microseconds.

Nothing is stored per customer: every field is derived from a 64-byte BLAKE2b digest of (seed, slot), so a
million customers need only their timestamps in memory (for the index) and page out at wire speed. The data
carries the mess real customer masters have: missing, invalid, mixed-case, padded and shared emails,
incomplete and non-ASCII addresses, very long names, and mass updates that give hundreds of customers one
LastUpdateDate. Each customer is a company with a domain of its own (`companies`), so apart from the
deliberately shared mailboxes no two customers hold one address, at any size; the mess keeps its rates.
"""

import hashlib
import struct

from oracle_mailchimp_dagster.sandbox.fusion import keys, pools_names
from oracle_mailchimp_dagster.sandbox.fusion.companies import CompanyRegistry
from oracle_mailchimp_dagster.sandbox.fusion.formatting import ascii_slug, format_address, format_phone
from oracle_mailchimp_dagster.sandbox.fusion.schema import Record

_PACK = struct.Struct("<qq").pack
_BLAKE2B = hashlib.blake2b
_DAY_MS = 86_400_000
_BATCH_SIZE_HINT = 20_000


def _fill(pattern: str, source: int) -> str:
    """Replace `#` with digits and `@` with letters drawn from `source`."""
    out = []
    for ch in pattern:
        if ch == "#":
            source, digit = divmod(source, 10)
            out.append(chr(48 + digit))
        elif ch == "@":
            source, letter = divmod(source, 26)
            out.append(chr(65 + letter))
        else:
            out.append(ch)
    return "".join(out)


def _owner(k: int) -> tuple[int, str, str, str]:
    first = pools_names.OWNER_FIRST[k % len(pools_names.OWNER_FIRST)]
    last = pools_names.OWNER_LAST[k % len(pools_names.OWNER_LAST)]
    email = f"{ascii_slug(first)}.{ascii_slug(last)}@ourcompany.example"
    return 300_000_001_000_000 + 17 * k, f"CDRM_{11 + k}", f"{first} {last}", email


_OWNERS = tuple(_owner(k) for k in range(40))
_LONG_TAILS = pools_names.LONG_TAILS
_LINE2 = pools_names.ADDRESS_LINE2
_CREATORS = pools_names.CREATORS
_UPDATERS = pools_names.UPDATERS
_CLASSES = pools_names.CUSTOMER_CLASSES
_MODULES = pools_names.CREATOR_MODULES
_ROLES = pools_names.ROLE_MAILBOXES
_SHARED = pools_names.SHARED_EMAILS


class CustomerGenerator:
    """Builds customer `slot` of a population of `size` spread over [history_start, history_end]."""

    def __init__(self, seed: int, size: int, history_start_ms: int, history_end_ms: int) -> None:
        if history_end_ms <= history_start_ms:
            raise ValueError("history_end must be after history_start")
        self.seed = seed
        self.size = size
        self.start = history_start_ms
        self.end = history_end_ms
        self._companies = CompanyRegistry(seed, size)
        span = history_end_ms - history_start_ms
        batches = max(1, size // _BATCH_SIZE_HINT)
        recent = span // 5
        self._batch_times = tuple(
            (history_end_ms - (k + 1) * recent // (batches + 1)) // 1000 * 1000 + 137 for k in range(batches)
        )

    def digest(self, slot: int) -> bytes:
        return _BLAKE2B(_PACK(self.seed, slot), digest_size=64).digest()

    def timestamps(self, slot: int, d: bytes | None = None) -> tuple[int, int]:
        """(CreationDate, LastUpdateDate) in epoch ms; creation order follows the slot."""
        if d is None:
            d = self.digest(slot)
        start, end = self.start, self.end
        base = start + (end - start) * slot // self.size if slot < self.size else end
        jitter = ((d[0] << 16) | (d[1] << 8) | d[2]) % _DAY_MS - _DAY_MS // 2
        creation = base + jitter
        creation = start if creation < start else end if creation > end else creation
        kind = d[3]
        if kind < 51:
            return creation, creation
        if kind < 59:
            batch = self._batch_times[((d[4] << 8) | d[5]) % len(self._batch_times)]
            return creation, max(batch, creation)
        u = ((d[6] << 16) | (d[7] << 8) | d[8]) / 16_777_216.0
        return creation, creation + int((end - creation) * u**0.5)

    def record(self, slot: int) -> Record:
        """All attributes of customer `slot`, in `schema.ATTRIBUTES` order."""
        d = self.digest(slot)
        creation, last_update = self.timestamps(slot, d)
        names, name, domain = self._companies.company(slot, d[20])
        country = names.country
        place = country.places[d[10] % len(country.places)]
        party_id, number, contact_party, contact_party_number = keys.identifiers(slot)

        # The legal name: the company's name, its legal form, sometimes a very long tail.
        suffix = country.suffixes[d[19] % len(country.suffixes)]
        name = f"株式会社{name}" if suffix == "株式会社" else f"{name} {suffix}"
        if d[23] < 3:
            name = f"{name} {_LONG_TAILS[d[24] % len(_LONG_TAILS)]}"
        surnames = country.surnames
        unique_suffix = place.city if d[43] < 26 else None
        unique_name = f"{name} ({unique_suffix})" if unique_suffix else name

        # Address.
        mess = d[15]
        street = country.streets[d[11] % len(country.streets)]
        house = 1 + ((d[12] << 8) | d[13]) % 2400
        line1: str | None = f"{house} {street}" if country.number_first else f"{street} {house}"
        if country.code == "BR":
            line1 = f"{street}, {house}"
        line2 = _LINE2[d[14] % len(_LINE2)] if d[14] < 51 else None
        city: str | None = place.city
        postal: str | None = _fill(place.postal, int.from_bytes(d[16:22], "little"))
        state, province, county = place.state, place.province, place.county
        country_code: str | None = country.code
        if mess < 5:
            line1 = line2 = city = postal = state = province = county = country_code = None
        elif mess < 13:
            if mess % 3 == 0:
                city = None
            elif mess % 3 == 1:
                postal = None
            else:
                line1 = None
        if country_code is None:
            address_number = None
            formatted_address = None
        else:
            address_number = f"{number}-1"
            formatted_address = format_address(country_code, line1, line2, city, state or province, postal)

        # Phone.
        if d[33] < 20:
            phone_cc = phone_area = phone_number = phone_ext = formatted_phone = None
        else:
            phone_cc, phone_area = country.phone_code, place.area
            phone_number = f"{(((d[30] << 16) | (d[31] << 8) | d[32]) % 10_000_000):07d}"
            if country.code == "US":
                phone_number = "555" + phone_number[3:]
            phone_ext = str(100 + d[34]) if d[33] > 243 else None
            formatted_phone = format_phone(phone_cc, phone_area, phone_number)

        # Primary contact (a person party).
        if d[27] < 26:
            contact_id = contact_number = contact_name = contact_email = contact_phone = None
        else:
            contacts = names.contacts
            contact_name, local = contacts[(d[27] * len(surnames) + d[28]) % len(contacts)]
            contact_id, contact_number = contact_party, contact_party_number
            contact_email = f"{local}@{domain}" if d[29] > 20 else None
            contact_phone = format_phone(country.phone_code, place.area, f"{d[29] * 9973 % 10_000_000:07d}")

        email = self._email(d, domain, contact_email)
        owner_id, owner_number, owner_name, owner_email = _OWNERS[d[39] % len(_OWNERS)]
        source = d[37]
        source_system: str | None
        source_ref: str | None
        if source < 64:
            source_system, source_ref = (
                "LEGACY_SAP",
                f"SAP-{int.from_bytes(d[60:63], 'little') % 10_000_000:07d}",
            )
        elif source < 90:
            source_system, source_ref = "SFDC", f"001{d[60:64].hex().upper()}{d[44:47].hex().upper()[:5]}AAQ"
        else:
            source_system = source_ref = None
        creator = _CREATORS[d[40] % len(_CREATORS)]
        updater = creator if last_update == creation else _UPDATERS[d[41] % len(_UPDATERS)]

        return (
            party_id,
            number,
            source_system,
            source_ref,
            name,
            unique_suffix,
            unique_name,
            "ZCA_PROSPECT" if d[34] < 51 else "ZCA_CUSTOMER",
            owner_id,
            owner_number,
            owner_email,
            owner_name,
            contact_id,
            contact_number,
            contact_name,
            contact_email,
            contact_phone,
            "I" if d[35] < 23 else "A",
            _CLASSES[d[36] % len(_CLASSES)] if d[36] > 25 else None,
            _MODULES[d[40] % len(_MODULES)],
            creator,
            creation,
            last_update,
            updater,
            d[44:60].hex().upper(),
            phone_cc,
            phone_area,
            phone_number,
            phone_ext,
            formatted_phone,
            email,
            f"https://www.{domain}" if d[38] < 154 else None,
            address_number,
            line1,
            line2,
            None,
            None,
            city,
            state,
            province,
            county,
            postal,
            country_code,
            formatted_address,
            country.currency if d[42] > 7 else None,
        )

    @staticmethod
    def _email(d: bytes, domain: str, contact_email: str | None) -> str | None:
        """The account email, including the ways real ones go wrong."""
        kind = d[25]
        role = _ROLES[d[26] % len(_ROLES)]
        if kind < 15:
            return None
        if kind < 20:
            variant = d[26] % 7
            if variant == 0:
                return f"{role}@"
            if variant == 1:
                return f"{role}@@{domain}"
            if variant == 2:
                return f"{role} at {domain}"
            if variant == 3:
                return f"{role}@{domain.split('.', 1)[0]}"
            if variant == 4:
                return f"{role}@{domain};billing@{domain}"
            if variant == 5:
                return "n/a"
            return f"{role}@{domain}."
        if kind < 33:
            return f"{role.upper()}@{domain.title()}" if d[26] % 2 else f"{role.title()}@{domain.upper()}"
        if kind < 38:
            return _SHARED[d[26] % len(_SHARED)]
        if kind < 41:
            return f" {role}@{domain} " if d[26] % 2 else f"{role}@{domain}\t"
        if kind < 43:
            return f"müller@{domain}" if d[26] % 2 else f"info@bäckerei-{domain}"
        if kind < 80 and contact_email:
            return contact_email
        return f"{role}@{domain}"
