"""A self-contained local deployment for `demo` and `dev`: one DAGSTER_HOME holding Dagster's storage,
the app database and the master key file, and the `demo` tenant registered against a running sandbox.

Everything is addressed explicitly (never through the caller's environment), so a user's own
ORACLE_MAILCHIMP_* settings can neither leak into the demo nor be touched by it.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from oracle_mailchimp_dagster.sandbox.runner import SandboxPair
from oracle_mailchimp_dagster.secrets import KEY_FILE_ENV, MASTER_KEY_ENV, KeyStore
from oracle_mailchimp_dagster.secrets.keystore import DEFAULT_KEY_FILE_NAME
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV, Database, upgrade_schema
from oracle_mailchimp_dagster.store.location import DEFAULT_SQLITE_NAME, normalise_url
from oracle_mailchimp_dagster.sync.rules import StatusIfNew
from oracle_mailchimp_dagster.tenants import TenantConfig, TenantRegistry
from oracle_mailchimp_dagster.tenants.consent import status_line
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from oracle_mailchimp_dagster.tenants.model import mapping_with_company

DEMO_TENANT = "demo"
# The sandbox audience has a COMPANY field, so the demo maps the organization name there too.
DEMO_MAPPING = mapping_with_company()
# Stated, as `tenants add --status-if-new` must be: the sandbox's customers gave no marketing consent.
DEMO_STATUS_IF_NEW = StatusIfNew.TRANSACTIONAL


@dataclass(frozen=True)
class LocalWorkspace:
    """DAGSTER_HOME with the app's SQLite database and key file beside Dagster's own storage."""

    dagster_home: Path

    @property
    def database_path(self) -> Path:
        return self.dagster_home / DEFAULT_SQLITE_NAME

    @property
    def key_file(self) -> Path:
        return self.dagster_home / DEFAULT_KEY_FILE_NAME

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    def env(self) -> dict[str, str]:
        """The variables that point Dagster and the connector at this workspace."""
        return {
            "DAGSTER_HOME": str(self.dagster_home),
            DATABASE_URL_ENV: self.database_url,
            KEY_FILE_ENV: str(self.key_file),
        }

    def child_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` pointed at this workspace; a master key in the caller's environment is left out, so
        the workspace's own key file is the one used."""
        env = {k: v for k, v in base.items() if k != MASTER_KEY_ENV}
        return {**env, **self.env()}

    def write_instance_config(self, text: str) -> bool:
        """Write `dagster.yaml` (Dagster's instance settings) unless it already says exactly this."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        path = self.dagster_home / "dagster.yaml"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return False
        path.write_text(text, encoding="utf-8")
        return True

    def open_registry(self) -> TenantRegistry:
        """The app database, migrated to the current schema, and the workspace's master key file."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        db = Database.from_url(normalise_url(self.database_url))
        upgrade_schema(db)
        return TenantRegistry(db, KeyStore(env_value=None, key_file=self.key_file.absolute()))


def demo_tenant(pair: SandboxPair) -> TenantConfig:
    """Tenant `demo`: the Fusion sandbox (OAuth) into the Mailchimp sandbox's default audience, its
    new members' status stated (`DEMO_STATUS_IF_NEW`)."""
    return tenant_from_env(
        DEMO_TENANT,
        pair.env(),
        display_name="Demo (sandbox)",
        mapping=DEMO_MAPPING,
        policy={"status_if_new": DEMO_STATUS_IF_NEW.value},
    )


def demo_status_line(tenant: TenantConfig) -> str:
    """What the demo tenant's new members become and what that means, and how a real tenant chooses."""
    return f"{status_line(tenant.policy.status_if_new)} (a real tenant chooses: tenants add --status-if-new)"


def register_demo_tenant(registry: TenantRegistry, pair: SandboxPair) -> bool:
    """Register `demo` against this sandbox; returns True when an older `demo` was replaced.

    A sandbox starts empty on free ports, so an earlier `demo` tenant (its URLs, mark and member
    state) describes a sandbox that is gone: it is removed and registered afresh (its ledger stays).
    """
    replaced = registry.exists(DEMO_TENANT)
    if replaced:
        registry.remove(DEMO_TENANT)
    registry.add(demo_tenant(pair), secrets_from_env(pair.env()))
    return replaced


@contextmanager
def applied_env(values: Mapping[str, str], drop: tuple[str, ...] = (MASTER_KEY_ENV,)) -> Iterator[None]:
    """Set `values` (and unset `drop`) in this process's environment for the block, then restore it.

    The Dagster resources read the key file location from the environment when a run starts.
    """
    names = set(values) | set(drop)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in drop:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
