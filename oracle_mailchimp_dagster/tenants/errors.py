"""Turn validation failures into one readable line naming every bad field and its first problem."""

from collections.abc import Mapping

from pydantic import ValidationError

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.tenants.shown import shown


class TenantConfigError(UserError):
    """A tenant's configuration (flags, YAML, env file) is invalid."""


def _location(error: Mapping[str, object]) -> str:
    """Where the problem is: a client setting's own path (`tenants.client_settings`), else the field's."""
    path = getattr((error.get("ctx") or {}).get("error"), "path", None)  # type: ignore[attr-defined]
    if isinstance(path, str):
        return path
    loc = error.get("loc") or ()
    return ".".join(shown(str(part)) for part in loc) or "tenant"  # type: ignore[attr-defined]


def _message(error: Mapping[str, object]) -> str:
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "extra_forbidden":
        return "unknown setting"
    if error.get("type") == "missing":
        return "required"
    if error.get("type") == "enum":
        expected = (error.get("ctx") or {}).get("expected", "")  # type: ignore[attr-defined]
        return f"'{shown(str(error.get('input')))}' is not one of {expected}"
    return message


def describe_validation_error(
    exc: ValidationError, subject: str, names: Mapping[str, str] | None = None
) -> str:
    """`invalid tenant 'acme': oracle.base_url: must use https ...; schedule.cron: ...` (one line).

    One problem per setting, the first; `names` renames paths for the reader, e.g. `oracle.base_url`
    to `--oracle-base-url`.
    """
    names = names or {}
    problems: dict[str, str] = {}
    for error in exc.errors():
        location = _location(error)
        problems.setdefault(location, _message(error))
    return f"invalid {subject}: " + "; ".join(
        f"{names.get(location, location)}: {message}" for location, message in problems.items()
    )
