"""Request-body shape checks that answer in Mailchimp's own words (reference §9.4 step 2).

A tiny JSON-Schema subset: Mailchimp's messages ("Schema describes string, NULL found instead", "Data did not
match any of the schemas described in anyOf.") differ from any validator library's, so the checker is ours.
"""

from collections.abc import Collection
from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp.models import MEMBER_STATUSES
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import FieldError

Schema = dict[str, Any]

ANY_OF_MESSAGE = "Data did not match any of the schemas described in anyOf."
PATCH_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
MERGE_FIELD_TYPES = (
    "text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"
)  # fmt: skip


def json_type(value: Any) -> str:
    """The type name Mailchimp's validator prints for a JSON value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_matches(value: Any, expected: str) -> bool:
    found = json_type(value)
    return found == expected or (expected == "number" and found == "integer")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check(value: Any, schema: Schema, path: str = "", address_tags: Collection[str] = ()) -> list[FieldError]:
    """All shape errors of `value` against `schema`, each with Mailchimp's field path and message."""
    kind = schema.get("type")
    if kind == "merge_fields":
        return _check_merge_fields(value, path, address_tags)
    if kind is not None and not _type_matches(value, kind):
        return [FieldError(path, f"Schema describes {kind}, {json_type(value)} found instead")]
    if "enum" in schema and value not in schema["enum"]:
        accepted = ", ".join(schema["enum"])
        return [FieldError(path, f"Data presented is not one of the accepted values: {accepted}.")]
    errors: list[FieldError] = []
    if kind == "object":
        missing = [name for name in schema.get("required", ()) if name not in value]
        if missing:
            errors.append(FieldError(path, f"Required fields were not provided: {', '.join(missing)}"))
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += check(value[name], sub, _join(path, name), address_tags)
        values_schema = schema.get("values")
        if values_schema is not None:
            for name, item in value.items():
                errors += check(item, values_schema, _join(path, name), address_tags)
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            errors += check(item, schema["items"], _join(path, f"item:{index}"), address_tags)
    return errors


def _check_merge_fields(value: Any, path: str, address_tags: Collection[str]) -> list[FieldError]:
    if not isinstance(value, dict):
        return [FieldError(path, f"Schema describes object, {json_type(value)} found instead")]
    errors = []
    for tag, item in value.items():
        allowed = (
            ("string", "integer", "number", "object")
            if tag in address_tags
            else ("string", "integer", "number")
        )
        if json_type(item) not in allowed:
            errors.append(FieldError(_join(path, tag), ANY_OF_MESSAGE))
    return errors


_STRING: Schema = {"type": "string"}
_BOOLEAN: Schema = {"type": "boolean"}
_LOCATION: Schema = {
    "type": "object",
    "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
}
_MEMBER_COMMON: dict[str, Schema] = {
    "email_address": _STRING,
    "email_type": {"type": "string", "enum": ["html", "text"]},
    "merge_fields": {"type": "merge_fields"},
    "interests": {"type": "object", "values": _BOOLEAN},
    "language": _STRING,
    "vip": _BOOLEAN,
    "location": _LOCATION,
    "marketing_permissions": {"type": "array"},
    "ip_signup": _STRING,
    "timestamp_signup": _STRING,
    "ip_opt": _STRING,
    "timestamp_opt": _STRING,
}
_STATUS: Schema = {"type": "string", "enum": list(MEMBER_STATUSES)}
_TAG_NAMES: Schema = {"type": "array", "items": _STRING}

MEMBER_CREATE: Schema = {
    "type": "object",
    "required": ["email_address", "status"],
    "properties": {**_MEMBER_COMMON, "status": _STATUS, "tags": _TAG_NAMES},
}
MEMBER_UPSERT: Schema = {
    "type": "object",
    "required": ["email_address"],
    "properties": {**_MEMBER_COMMON, "status": _STATUS, "status_if_new": _STATUS},
}
MEMBER_UPDATE: Schema = {
    "type": "object",
    "properties": {**_MEMBER_COMMON, "status": {"type": "string", "enum": list(PATCH_STATUSES)}},
}
BATCH_MEMBER: Schema = {
    "type": "object",
    "required": ["email_address"],
    "properties": {**_MEMBER_COMMON, "status": _STATUS, "status_if_new": _STATUS, "tags": _TAG_NAMES},
}
BATCH: Schema = {
    "type": "object",
    "required": ["members"],
    "properties": {
        "members": {"type": "array", "items": BATCH_MEMBER},
        "update_existing": _BOOLEAN,
        "sync_tags": _BOOLEAN,
    },
}
MEMBER_TAGS: Schema = {
    "type": "object",
    "required": ["tags"],
    "properties": {
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "status"],
                "properties": {"name": _STRING, "status": {"type": "string", "enum": ["inactive", "active"]}},
            },
        },
        "is_syncing": _BOOLEAN,
    },
}
_MERGE_FIELD_OPTIONS: Schema = {
    "type": "object",
    "properties": {
        "default_country": {"type": "integer"},
        "phone_format": _STRING,
        "date_format": _STRING,
        "choices": {"type": "array", "items": _STRING},
        "size": {"type": "integer"},
    },
}
_MERGE_FIELD_COMMON: dict[str, Schema] = {
    "tag": _STRING,
    "name": _STRING,
    "required": _BOOLEAN,
    "default_value": _STRING,
    "public": _BOOLEAN,
    "display_order": {"type": "integer"},
    "options": _MERGE_FIELD_OPTIONS,
    "help_text": _STRING,
}
MERGE_FIELD_CREATE: Schema = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {**_MERGE_FIELD_COMMON, "type": {"type": "string", "enum": list(MERGE_FIELD_TYPES)}},
}
MERGE_FIELD_UPDATE: Schema = {"type": "object", "required": ["name"], "properties": _MERGE_FIELD_COMMON}
_LIST_CONTACT: Schema = {
    "type": "object",
    "required": ["company", "address1", "city", "country"],
    "properties": {
        k: _STRING for k in ("company", "address1", "address2", "city", "state", "zip", "country", "phone")
    },
}
_CAMPAIGN_DEFAULTS: Schema = {
    "type": "object",
    "required": ["from_name", "from_email", "subject", "language"],
    "properties": {k: _STRING for k in ("from_name", "from_email", "subject", "language")},
}
_LIST_PROPERTIES: dict[str, Schema] = {
    "name": _STRING,
    "contact": _LIST_CONTACT,
    "permission_reminder": _STRING,
    "use_archive_bar": _BOOLEAN,
    "campaign_defaults": _CAMPAIGN_DEFAULTS,
    "notify_on_subscribe": _STRING,
    "notify_on_unsubscribe": _STRING,
    "email_type_option": _BOOLEAN,
    "double_optin": _BOOLEAN,
    "marketing_permissions": _BOOLEAN,
    "visibility": {"type": "string", "enum": ["pub", "prv"]},
}
LIST_CREATE: Schema = {
    "type": "object",
    "required": ["name", "contact", "permission_reminder", "campaign_defaults", "email_type_option"],
    "properties": _LIST_PROPERTIES,
}
# The 3.0.55 spec marks the same fields required on PATCH as on POST; the simulator follows it.
LIST_UPDATE: Schema = LIST_CREATE
_EMAILS: Schema = {"type": "array", "items": _STRING}
SEGMENT_CREATE: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _STRING, "static_segment": _EMAILS, "options": {"type": "object"}},
}
# As for lists, the 3.0.55 spec requires `name` on PATCH too; the simulator follows it.
SEGMENT_UPDATE: Schema = SEGMENT_CREATE
SEGMENT_BATCH: Schema = {
    "type": "object",
    "properties": {"members_to_add": _EMAILS, "members_to_remove": _EMAILS},
}
SEGMENT_MEMBER: Schema = {
    "type": "object",
    "required": ["email_address"],
    "properties": {"email_address": _STRING},
}
