"""Read the tenant registry for schedules and sensors, tolerating a database that is not set up yet."""

import logging
from collections.abc import Callable
from typing import TypeVar

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

log = logging.getLogger(__name__)
T = TypeVar("T")


def enabled_tenants(registry: TenantRegistry) -> list[TenantConfig]:
    return [t for t in registry.list_all() if t.enabled]


def load_or_default(read: Callable[[], T], default: T, what: str) -> T:
    """`read()`, or `default` with one warning when the app database is missing or behind."""
    try:
        return read()
    except UserError as exc:
        log.warning("oracle-mailchimp: %s unavailable: %s", what, exc)
        return default
