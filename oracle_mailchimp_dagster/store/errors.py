"""Database problems a person can fix, each printed by the CLI as one line."""

from datetime import UTC, datetime

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store.records import HighWaterMark


class DatabaseConfigError(UserError):
    """The database URL is missing a piece, names an unsupported database, or cannot be parsed."""


class DatabaseUnavailableError(UserError):
    """The database cannot be reached or opened."""


class SchemaNotCurrentError(UserError):
    """The database schema is not the one this version of the code needs; says what to run."""


class TenantNotFoundError(UserError):
    """No tenant has this id."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"no tenant '{tenant_id}': see `oracle-mailchimp tenants list`")
        self.tenant_id = tenant_id


class TenantExistsError(UserError):
    """A tenant with this id is already registered."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(
            f"tenant '{tenant_id}' already exists: "
            f"use `oracle-mailchimp tenants update {tenant_id}` to change it"
        )
        self.tenant_id = tenant_id


class LeaseBusyError(UserError):
    """Another run holds the tenant's lease, and kept it for as long as this run would wait."""

    exit_code = 1

    def __init__(self, tenant_id: str, holder: str, expires_at: datetime, waited_s: float) -> None:
        until = expires_at.astimezone(UTC).isoformat(timespec="seconds")
        message = f"tenant '{tenant_id}' is being synced by run {holder} (lease until {until})"
        if waited_s > 0:
            message += f"; waited {waited_s:.0f} s for it, try again when that run has finished"
        super().__init__(message)
        self.tenant_id = tenant_id
        self.holder = holder
        self.expires_at = expires_at


class StaleStateError(UserError):
    """The tenant's state changed after the run planned: applying the plan could write older data."""

    exit_code = 1

    @classmethod
    def version(
        cls, tenant_id: str, planned: int | None, current: int, committed_by: str | None
    ) -> "StaleStateError":
        if planned is None:
            return cls(
                f"tenant '{tenant_id}': the plan records no state version (an earlier version of the "
                "connector made it); re-run the sync"
            )
        return cls(
            f"tenant '{tenant_id}': the plan was made against state version {planned}, the tenant is now "
            f"at {current} ({_since(committed_by)}); re-run the sync"
        )

    @classmethod
    def mark(
        cls, tenant_id: str, planned: HighWaterMark | None, current: HighWaterMark | None, by: str | None
    ) -> "StaleStateError":
        return cls(
            f"tenant '{tenant_id}': the plan was made from mark {mark_label(planned)}, the tenant's mark is "
            f"now {mark_label(current)} ({_since(by)}); re-run the sync"
        )


def _since(committed_by: str | None) -> str:
    return f"run {committed_by} committed since" if committed_by else "its state was reset since"


def mark_label(mark: HighWaterMark | None) -> str:
    return f"{mark.timestamp.isoformat()} / PartyId {mark.key}" if mark else "none"
