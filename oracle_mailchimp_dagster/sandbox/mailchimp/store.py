"""The whole mutable state of one Mailchimp sandbox, under one lock, and how it is (re)built from config."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.auth import Credential
from oracle_mailchimp_dagster.sandbox.mailchimp.clock import SandboxClock
from oracle_mailchimp_dagster.sandbox.mailchimp.config import (
    MERGE_TAG_PATTERN,
    MailchimpSandboxConfig,
    MergeFieldSpec,
    MergeFieldType,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.ids import IdSource
from oracle_mailchimp_dagster.sandbox.mailchimp.members import MemberWrites, WriteContext
from oracle_mailchimp_dagster.sandbox.mailchimp.models import DEFAULT_OPTIONS, AudienceList, MergeField
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import FieldError
from oracle_mailchimp_dagster.sandbox.mailchimp.segments import SegmentWrites

DEFAULT_LIST_SETTINGS: dict[str, Any] = {
    "contact": {
        "company": "Oracle Mailchimp Sandbox",
        "address1": "1 Sandbox Way",
        "address2": "",
        "city": "Atlanta",
        "state": "GA",
        "zip": "30308",
        "country": "US",
        "phone": "",
    },
    "permission_reminder": "You are receiving this email because you are a customer of ours.",
    "use_archive_bar": False,
    "campaign_defaults": {
        "from_name": "Sandbox",
        "from_email": "news@oracle-mailchimp-sandbox.io",
        "subject": "",
        "language": "en",
    },
    "notify_on_subscribe": "",
    "notify_on_unsubscribe": "",
    "email_type_option": False,
    "double_optin": False,
    "marketing_permissions": False,
    "visibility": "prv",
}


@dataclass
class KeyRecord:
    disabled: bool = False


class MailchimpState:
    """Audiences, credentials, switches and clock; every API or control handler works under `locked()`."""

    def __init__(self, config: MailchimpSandboxConfig) -> None:
        self.config = config
        self._lock = threading.RLock()
        self.clock = SandboxClock()
        self.reset()

    def reset(self) -> None:
        """Back to exactly what the config describes."""
        with self._lock:
            config = self.config
            self.switches = config.switches.model_copy(deep=True)
            self.ids = IdSource(config.seed)
            self.clock.reset()
            self.api_keys: dict[str, KeyRecord] = {
                k: KeyRecord() for k in [config.api_key, *config.extra_api_keys]
            }
            self.oauth_tokens: set[str] = set(config.oauth_tokens)
            self.lists: dict[str, AudienceList] = {}
            self.writes = MemberWrites(WriteContext(self.clock, self.switches, self.ids))
            self.segments = SegmentWrites(self.writes.ctx)
            self.create_list(config.list_id, config.list_name, {}, config.default_merge_fields())

    @contextmanager
    def locked(self) -> Iterator["MailchimpState"]:
        with self._lock:
            yield self

    def set_switches(self, updates: Mapping[str, Any]) -> None:
        with self._lock:
            merged = {**self.switches.model_dump(), **updates}
            self.switches = type(self.switches).model_validate(merged)
            self.writes.ctx.switches = self.switches

    # --- credentials ---------------------------------------------------------------------------------

    def authenticate(self, credential: Credential | None, host: str = "") -> None:
        """Raise the 401/403 problem Mailchimp would answer for this credential, if any."""
        if credential is None:
            raise problems.api_key_missing()
        if credential.kind == "oauth_token":
            if credential.secret not in self.oauth_tokens:
                raise problems.api_key_invalid()
            return
        record = self.api_keys.get(credential.secret)
        if record is None:
            raise problems.api_key_invalid()
        if record.disabled:
            raise problems.api_key_invalid("API key has been disabled")
        if self.switches.check_datacenter:
            host_dc = host.split(".", 1)[0] if host.count(".") >= 2 and not host[0].isdigit() else None
            expected = host_dc or self.config.dc
            if credential.dc != expected:
                raise problems.wrong_datacenter(self.switches.wrong_datacenter_status)

    def register_api_key(self, key: str, disabled: bool = False) -> None:
        with self._lock:
            self.api_keys[key] = KeyRecord(disabled=disabled)

    def register_oauth_token(self, token: str) -> None:
        with self._lock:
            self.oauth_tokens.add(token)

    # --- audiences -----------------------------------------------------------------------------------

    def audience(self, list_id: str) -> AudienceList:
        audience = self.lists.get(list_id)
        if audience is None:
            raise problems.resource_not_found()
        return audience

    def create_list(
        self,
        list_id: str | None,
        name: str,
        settings: Mapping[str, Any],
        merge_fields: list[MergeFieldSpec],
    ) -> AudienceList:
        with self._lock:
            new_id = list_id or self.ids.hex(10)
            audience = AudienceList(
                id=new_id,
                web_id=self.ids.web_id(),
                name=name,
                date_created=self.clock.now(),
                settings={**DEFAULT_LIST_SETTINGS, **settings},
            )
            for spec in merge_fields:
                self.add_merge_field(audience, spec.model_dump())
            self.lists[new_id] = audience
            return audience

    @staticmethod
    def add_merge_field(audience: AudienceList, body: Mapping[str, Any]) -> MergeField:
        """Create a field as `POST /lists/{id}/merge-fields` does (tag upper-cased, ≤ 10 characters)."""
        merge_id = audience.next_merge_id
        tag = _checked_tag(audience, str(body.get("tag") or f"MMERGE{merge_id}"))
        kind = str(body["type"])
        display_order = (
            body.get("display_order")
            or max((f.display_order for f in audience.merge_fields.values()), default=1) + 1
        )
        merge_field = MergeField(
            merge_id=merge_id,
            tag=tag,
            name=str(body["name"]),
            type=cast(MergeFieldType, kind),
            required=bool(body.get("required", False)),
            default_value=str(body.get("default_value", "")),
            public=bool(body.get("public", True)),
            display_order=int(display_order),
            help_text=str(body.get("help_text", "")),
            options={**DEFAULT_OPTIONS.get(kind, {}), **dict(body.get("options") or {})},
        )
        audience.merge_fields[merge_id] = merge_field
        audience.next_merge_id += 1
        return merge_field

    @staticmethod
    def update_merge_field(audience: AudienceList, merge_field: MergeField, body: Mapping[str, Any]) -> None:
        """`PATCH .../merge-fields/{id}`: everything but `type` may change; a new tag must stay unique."""
        if "tag" in body:
            tag = _checked_tag(audience, str(body["tag"]), merge_field)
            if tag != merge_field.tag:
                for member in audience.members.values():
                    if merge_field.tag in member.merge_fields:
                        member.merge_fields[tag] = member.merge_fields.pop(merge_field.tag)
                merge_field.tag = tag
        for name in ("name", "required", "default_value", "public", "display_order", "help_text"):
            if name in body:
                setattr(merge_field, name, body[name])
        if "options" in body:
            merge_field.options = {**merge_field.options, **body["options"]}

    @staticmethod
    def delete_merge_field(audience: AudienceList, merge_field: MergeField) -> None:
        del audience.merge_fields[merge_field.merge_id]
        for member in audience.members.values():
            member.merge_fields.pop(merge_field.tag, None)


TAG_RULES = "Merge tags are 1 to 10 characters: letters A-Z, digits and underscores; EMAIL is reserved"


def _checked_tag(audience: AudienceList, raw: str, renaming: MergeField | None = None) -> str:
    """The upper-cased tag, if it is well formed and not used by another field of the audience."""
    tag = raw.upper()
    if not MERGE_TAG_PATTERN.fullmatch(tag) or tag == "EMAIL":
        raise problems.schema_errors([FieldError("tag", TAG_RULES)])
    other = audience.merge_field_by_tag(tag)
    if other is not None and other is not renaming:
        raise problems.invalid_resource(f'A Merge Field with the tag "{tag}" already exists for this list.')
    return tag
