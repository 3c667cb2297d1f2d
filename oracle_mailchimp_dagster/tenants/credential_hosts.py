"""Which hosts each credential is sent to, and when a change of them needs the credential again.

The Oracle client secret (or password) goes to the pod URL and the token URL; the Mailchimp API key
(or OAuth token) to the API base: the explicit override, else the key's own data center (or the one
Mailchimp's OAuth metadata names). Pointing such a setting at another host hands the stored credential
to whoever runs it, so the registry accepts that change only with the credential entered again in the
same call (`changes_needing_secret`). The hosts a credential was entered for are sealed with it
(`tenants.secret_binding`) and every connection is checked against them (`check_bound_hosts`), so a
change written straight into the database sends nothing.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp.endpoints import api_base_for_dc
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.tenants.auth_modes import MailchimpAuthMode, OracleAuthMode
from oracle_mailchimp_dagster.tenants.hosts import host_label, origin
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.secret_rules import SECRET_TITLES

# Setting path -> the origin (scheme://host:port) the credential goes to; None: derived (data center).
Hosts = dict[str, str | None]

ORACLE_SECRETS = frozenset({SecretName.ORACLE_CLIENT_SECRET, SecretName.ORACLE_PASSWORD})
API_BASE = "mailchimp.api_base"
SECRET_NOUNS = {
    SecretName.ORACLE_CLIENT_SECRET: "the secret",
    SecretName.ORACLE_PASSWORD: "the password",
    SecretName.MAILCHIMP_API_KEY: "the key",
    SecretName.MAILCHIMP_OAUTH_TOKEN: "the token",
    SecretName.ALERT_WEBHOOK_URL: "the URL",
}
# The YAML keys of `tenants import` that give each secret (by environment variable).
YAML_SECRET_KEYS = {
    SecretName.ORACLE_CLIENT_SECRET: "oracle.client_secret_env",
    SecretName.ORACLE_PASSWORD: "oracle.password_env",
    SecretName.MAILCHIMP_API_KEY: "mailchimp.api_key_env",
    SecretName.MAILCHIMP_OAUTH_TOKEN: "mailchimp.oauth_token_env",
    SecretName.ALERT_WEBHOOK_URL: "alerts.webhook_url_env",
}


def credential_hosts(config: TenantConfig, name: SecretName) -> Hosts:
    """Where `config` sends the credential `name`, by setting.

    Nothing for the alert webhook URL: it is its own destination, so no setting can send it elsewhere.
    """
    if name is SecretName.ALERT_WEBHOOK_URL:
        return {}
    if name in ORACLE_SECRETS:
        hosts: Hosts = {"oracle.base_url": origin(config.oracle.base_url)}
        if config.oracle.auth is OracleAuthMode.OAUTH and config.oracle.token_url:
            hosts["oracle.token_url"] = origin(config.oracle.token_url)
        return hosts
    base = config.mailchimp.api_base
    return {API_BASE: origin(base) if base else None}


def _url(config: TenantConfig, setting: str) -> str | None:
    section, field = setting.split(".")
    value = getattr(getattr(config, section), field)
    return value if isinstance(value, str) else None


def _own_base(config: TenantConfig, key_data_center: str | None) -> str | None:
    """The API base of the API key's own data center, where the key may always go."""
    if config.mailchimp.auth is MailchimpAuthMode.API_KEY and key_data_center:
        return api_base_for_dc(key_data_center)
    return None


@dataclass(frozen=True, slots=True)
class HostChange:
    """A setting that would send a stored credential to another host (hosts only, never the secret)."""

    setting: str
    secret: SecretName
    old: str
    new: str


def changes_needing_secret(
    old: TenantConfig | None,
    new: TenantConfig,
    given: Collection[SecretName],
    *,
    key_data_center: str | None = None,
) -> list[HostChange]:
    """The host changes from `old` to `new` that need a credential not `given` (pure).

    `old` None: the stored settings could not be read, so every host counts as new. The Mailchimp API
    base may always become the stored key's own data center (`key_data_center`) or be dropped (the
    key then goes to its data center, or the OAuth metadata names one).
    """
    changes: list[HostChange] = []
    oracle = new.oracle.secret_name
    if oracle not in given:
        for setting, new_origin in credential_hosts(new, oracle).items():
            before = _url(old, setting) if old is not None else None
            if before is None or origin(before) != new_origin:
                after = host_label(_url(new, setting) or "")
                changes.append(HostChange(setting, oracle, host_label(before) if before else "none", after))
    mailchimp = new.mailchimp.secret_name
    base = new.mailchimp.api_base
    if mailchimp not in given and base is not None:
        old_base = (old.mailchimp.api_base or _own_base(old, key_data_center)) if old is not None else None
        allowed = {origin(url) for url in (old_base, _own_base(new, key_data_center)) if url}
        if origin(base) not in allowed:
            if old_base:
                before = host_label(old_base)
            elif old is not None and old.mailchimp.auth is MailchimpAuthMode.OAUTH:
                before = "the data center Mailchimp's OAuth metadata names"
            else:
                before = "the key's data center"
            changes.append(HostChange(API_BASE, mailchimp, before, host_label(base)))
    return changes


@dataclass(frozen=True)
class HostNaming:
    """How a refusal names settings and the ways to give a secret (YAML keys, CLI flags)."""

    setting: Callable[[str], str]
    secret_sources: Callable[[SecretName], str]


YAML_NAMING = HostNaming(setting=lambda path: path, secret_sources=YAML_SECRET_KEYS.__getitem__)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class HostChangeRefused(UserError):
    """A setting would send a stored credential to a new host without it being given; nothing was written."""

    def __init__(self, refusals: Sequence[tuple[str, Sequence[HostChange]]]) -> None:
        self.refusals = [(tenant_id, list(changes)) for tenant_id, changes in refusals]
        super().__init__(self.explain(YAML_NAMING, name_tenants=True))

    def explain(self, naming: HostNaming, *, name_tenants: bool) -> str:
        """One line: per tenant and credential, the settings, the hosts and how to give it again."""
        parts = []
        for tenant_id, changes in self.refusals:
            for secret in dict.fromkeys(change.secret for change in changes):
                group = [change for change in changes if change.secret is secret]
                settings = _join([naming.setting(change.setting) for change in group])
                hosts = ", ".join(f"{change.old} -> {change.new}" for change in group)
                where = "a new host" if len(group) == 1 else "new hosts"
                part = (
                    f"changing {settings} sends the {SECRET_TITLES[secret]} to {where} ({hosts}): "
                    f"give {SECRET_NOUNS[secret]} again with {naming.secret_sources(secret)}"
                )
                parts.append(f"tenant '{tenant_id}': {part}" if name_tenants else part)
        return "; ".join(parts)


class CredentialHostMismatch(UserError):
    """The settings send a credential to a host it was not entered for; nothing was sent."""


def _mismatch(
    config: TenantConfig, name: SecretName, setting: str, entered: str | None
) -> CredentialHostMismatch:
    flag = {
        SecretName.ORACLE_CLIENT_SECRET: "--oracle-client-secret-env",
        SecretName.ORACLE_PASSWORD: "--oracle-password-env",
        SecretName.MAILCHIMP_API_KEY: "--mailchimp-api-key-env",
        SecretName.MAILCHIMP_OAUTH_TOKEN: "--mailchimp-oauth-token-env",
    }[name]
    now = host_label(_url(config, setting) or "")
    was = host_label(entered) if entered else "its own data center"
    return CredentialHostMismatch(
        f"tenant '{config.id}': the {SECRET_TITLES[name]} was entered for {was}, but {setting} now "
        f"sends it to {now}, a change made without giving it again: nothing was sent; if {now} is right, "
        f"give {SECRET_NOUNS[name]} again: oracle-mailchimp tenants update {config.id} {flag} VAR"
    )


def check_bound_hosts(
    config: TenantConfig, name: SecretName, bound: Hosts | None, *, key_data_center: str | None = None
) -> None:
    """Raise `CredentialHostMismatch` unless `config` sends credential `name` only where it was entered for.

    `bound` None: stored before credentials were bound; the settings are trusted as they are. The
    Mailchimp API key may also go to its own data center (`key_data_center`).
    """
    if bound is None:
        return
    if name in ORACLE_SECRETS:
        for setting, now in credential_hosts(config, name).items():
            if bound.get(setting) != now:
                raise _mismatch(config, name, setting, bound.get(setting))
        return
    base = config.mailchimp.api_base
    own = _own_base(config, key_data_center)
    allowed = {bound.get(API_BASE), origin(own) if own else None} - {None}
    if base is not None and origin(base) not in allowed:
        raise _mismatch(config, name, API_BASE, bound.get(API_BASE))
