"""Which setting changes make a tenant's stored sync state meaningless, and the refusal that names them.

Member state says what each customer became in one audience; the mark says how far one Oracle
resource has been read. Pointing the tenant at another audience, Mailchimp account, pod or resource
leaves both describing the old place: `sync` would read nothing new and plan `skip_unchanged` for
customers the new audience has never seen. Every other setting (mapping, policy, schedule, client id,
paging, a rotated credential) keeps the state meaningful: the planner diffs against it as before.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp.endpoints import MalformedApiKey, api_base_for_dc, data_center
from oracle_mailchimp_dagster.tenants.model import MailchimpAuthMode, TenantConfig


@dataclass(frozen=True, slots=True)
class SettingChange:
    """One changed setting the state depends on, with both values (none of them is a secret)."""

    setting: str
    old: str
    new: str
    # What the stored state would wrongly be taken to describe.
    subject: str

    def __str__(self) -> str:
        return f"{self.setting} ({self.old} -> {self.new})"


def key_data_center(api_key: SecretStr | None) -> str | None:
    """The data center of a Mailchimp API key, or None when there is no key or it is malformed."""
    if api_key is None:
        return None
    try:
        return data_center(api_key.get_secret_value())
    except MalformedApiKey:
        return None


def mailchimp_api_base(config: TenantConfig, dc: str | None) -> str | None:
    """Where the audience lives: the explicit API base, else the API key's data center.

    None when only the running client can tell (an OAuth token's data center comes from Mailchimp's
    metadata endpoint): then the account counts as unchanged and the list id decides.
    """
    if config.mailchimp.api_base:
        return config.mailchimp.api_base
    if config.mailchimp.auth is MailchimpAuthMode.API_KEY and dc:
        return api_base_for_dc(dc)
    return None


def _same_url(a: str, b: str) -> bool:
    """Equal up to the case of scheme and host (validated URLs carry no trailing slash)."""
    one, two = urlsplit(a), urlsplit(b)
    return (one.scheme.lower(), one.netloc.lower(), one.path) == (
        two.scheme.lower(),
        two.netloc.lower(),
        two.path,
    )


def state_affecting_changes(
    old: TenantConfig,
    new: TenantConfig,
    *,
    old_data_center: str | None = None,
    new_data_center: str | None = None,
) -> list[SettingChange]:
    """The changes from `old` to `new` that make the stored member state and mark meaningless.

    The data centers are those of the old and new Mailchimp API keys (`key_data_center`): a new key
    of the same data center is a rotated credential of the same account, not another account.
    """
    changes: list[SettingChange] = []
    if old.mailchimp.list_id != new.mailchimp.list_id:
        changes.append(
            SettingChange(
                "the Mailchimp list id", old.mailchimp.list_id, new.mailchimp.list_id, "the new audience"
            )
        )
    old_base = mailchimp_api_base(old, old_data_center)
    new_base = mailchimp_api_base(new, new_data_center)
    if old_base and new_base and not _same_url(old_base, new_base):
        changes.append(
            SettingChange("the Mailchimp account (API base)", old_base, new_base, "the new Mailchimp account")
        )
    if not _same_url(old.oracle.base_url, new.oracle.base_url):
        changes.append(
            SettingChange("the Oracle pod URL", old.oracle.base_url, new.oracle.base_url, "the new pod")
        )
    if old.oracle.resource_path != new.oracle.resource_path:
        changes.append(
            SettingChange(
                "the Oracle resource path",
                old.oracle.resource_path,
                new.oracle.resource_path,
                "the new resource",
            )
        )
    return changes


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_changes(changes: Sequence[SettingChange]) -> str:
    """`the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5) and the Oracle pod URL (... -> ...)`."""
    return _join([str(change) for change in changes])


class StateChangeRefused(UserError):
    """Settings would make stored sync state meaningless, and no reset was asked for; nothing was written."""

    def __init__(self, refusals: Sequence[tuple[str, Sequence[SettingChange]]]) -> None:
        self.refusals = [(tenant_id, list(changes)) for tenant_id, changes in refusals]
        super().__init__(self.explain(name_tenants=True))

    def explain(self, *, name_tenants: bool) -> str:
        """One line: what changes, for which tenant(s), and the two ways on."""
        count = sum(len(changes) for _, changes in self.refusals)
        parts = []
        for tenant_id, changes in self.refusals:
            subjects = _join(list(dict.fromkeys(change.subject for change in changes)))
            part = (
                f"changing {describe_changes(changes)} makes the stored member state and mark "
                f"meaningless for {subjects}"
            )
            parts.append(f"tenant '{tenant_id}': {part}" if name_tenants else part)
        leave = "the setting as it is" if count == 1 else "the settings as they are"
        return (
            "; ".join(parts) + "; add --reset-state to reset them (the next sync loads the audience fully), "
            f"or leave {leave}"
        )
