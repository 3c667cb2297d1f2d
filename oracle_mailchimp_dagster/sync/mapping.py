"""Map one customer to the Mailchimp member it should be, and check a mapping against a list."""

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import email_problem, normalize_email
from oracle_mailchimp_dagster.sync.model import ListField, MemberPayload
from oracle_mailchimp_dagster.sync.rules import (
    BILLING_ADDRESS,
    CONTACT_FIRST_NAME,
    CONTACT_LAST_NAME,
    MemberMapping,
    SyncPolicy,
)
from oracle_mailchimp_dagster.sync.values import ConversionError, compose_address, convert_value


class InvalidRecord(ValueError):
    """The customer cannot become a member; the message is the ledger's reason."""


def _contact_names(customer: Customer) -> tuple[str | None, str | None]:
    name = customer.primary_contact_name
    parts = str(name).split() if name else []
    if not parts:
        return None, None
    if len(parts) == 1:
        return parts[0], None
    return " ".join(parts[:-1]), parts[-1]


def source_value(customer: Customer, source: str) -> Any:
    """The raw value a (resolved) mapping source names, before type conversion."""
    if source == CONTACT_FIRST_NAME:
        return _contact_names(customer)[0]
    if source == CONTACT_LAST_NAME:
        return _contact_names(customer)[1]
    if source == BILLING_ADDRESS:
        return compose_address(customer)
    return customer.value(source)


def managed_tags(customer: Customer, mapping: MemberMapping) -> frozenset[str]:
    """The tags the connector owns for this customer (segments, account type)."""
    tags = set()
    for rule in mapping.tags:
        raw = customer.value(rule.source)
        if raw is None or not str(raw).strip():
            continue
        tags.add(rule.tag(str(raw).strip())[:100])
    return frozenset(tags)


def map_customer(
    customer: Customer,
    mapping: MemberMapping,
    fields: Mapping[str, ListField],
    policy: SyncPolicy,
) -> MemberPayload:
    """The member payload for an active customer. Raises InvalidRecord with the reason."""
    email = normalize_email(customer.email_address)
    problem = email_problem(email)
    if problem is not None:
        raise InvalidRecord(problem)
    assert email is not None
    merge_fields: dict[str, Any] = {}
    warnings: list[str] = []
    for tag, mapped in mapping.merge_fields.items():
        field = fields.get(tag)
        if field is None:
            continue
        try:
            value = convert_value(source_value(customer, mapped.source), field, policy.text_max_length)
        except ConversionError as exc:
            if field.required:
                raise InvalidRecord(f"merge field {tag}: {exc}") from None
            warnings.append(f"{tag} left out: {exc}")
            continue
        if value is not None:
            merge_fields[tag] = value
    for field in fields.values():
        if field.required and field.tag not in merge_fields:
            raise InvalidRecord(f"required merge field {field.tag} has no value")
    return MemberPayload(email, merge_fields, managed_tags(customer, mapping), tuple(warnings))


def payload_hash(payload: MemberPayload, status_if_new: str) -> str:
    """A stable digest of what would be sent; equal digests mean nothing to send."""
    canonical = orjson.dumps(
        {
            "email": payload.email,
            "merge_fields": payload.merge_fields,
            "tags": sorted(payload.tags),
            "status_if_new": status_if_new,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


_SOURCE_KINDS = {BILLING_ADDRESS: {"address"}}


def mapping_problems(mapping: MemberMapping, fields: Mapping[str, ListField]) -> list[str]:
    """What stops a run before any write: unknown or mistyped mapped fields, unmapped required ones."""
    problems = []
    for tag, mapped in mapping.merge_fields.items():
        field = fields.get(tag)
        source = mapped.label
        if field is None:
            problems.append(f"merge field {tag} (mapped from {source}) does not exist in the list")
            continue
        wanted = _SOURCE_KINDS.get(mapped.source)
        if wanted is not None and field.type not in wanted:
            problems.append(f"merge field {tag} is of type {field.type} but {source} needs an address field")
        elif wanted is None and field.type == "address":
            problems.append(f"merge field {tag} is an address field but is mapped from {source}")
    for field in fields.values():
        if field.required and field.tag not in mapping.merge_fields:
            problems.append(f"merge field {field.tag} is required in the list but not mapped")
    return problems
