"""Database problems a person can fix, each printed by the CLI as one line."""

from oracle_mailchimp_dagster.errors import UserError


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
