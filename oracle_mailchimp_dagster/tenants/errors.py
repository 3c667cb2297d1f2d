"""Turn validation failures into one readable line naming every bad field."""

from collections.abc import Mapping

from pydantic import ValidationError

from oracle_mailchimp_dagster.errors import UserError


class TenantConfigError(UserError):
    """A tenant's configuration (flags, YAML, env file) is invalid."""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "tenant"


def _message(error: dict[str, object]) -> str:
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "extra_forbidden":
        return "unknown setting"
    if error.get("type") == "missing":
        return "required"
    if error.get("type") == "enum":
        expected = (error.get("ctx") or {}).get("expected", "")  # type: ignore[attr-defined]
        return f"'{error.get('input')}' is not one of {expected}"
    return message


def describe_validation_error(
    exc: ValidationError, subject: str, names: Mapping[str, str] | None = None
) -> str:
    """`invalid tenant 'acme': oracle.base_url: must use https ...; schedule.cron: ...` (one line).

    `names` renames field paths for the reader, e.g. `oracle.base_url` to `--oracle-base-url`.
    """
    names = names or {}
    problems = []
    for error in exc.errors():
        location = _location(tuple(error["loc"]))
        problems.append(f"{names.get(location, location)}: {_message(dict(error))}")
    return f"invalid {subject}: " + "; ".join(problems)
