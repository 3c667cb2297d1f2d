"""What a credential may look like before it is stored: the checks the wire would make too late.

A key with trailing whitespace passed the API key validator (it strips) and was sent with the
space, a confusing 401; a non-latin-1 Oracle secret failed inside requests' Basic auth with the
character and its position in the message. Messages name the secret and the rule, never any
character of the value.
"""

from collections.abc import Mapping

from pydantic import SecretStr

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp.endpoints import MalformedApiKey, data_center
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.tenants.client_settings import (
    ClientSettingError,
    fusion_connection_for,
    mailchimp_connection_for,
)
from oracle_mailchimp_dagster.tenants.hosts import webhook_url_problem
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.text_rules import invisible_character, is_latin1

# Far above any real key, secret, password or token; a stored value is sent on every call.
MAX_SECRET_CHARS = 4_096

SECRET_TITLES = {
    SecretName.ORACLE_CLIENT_SECRET: "Oracle client secret",
    SecretName.ORACLE_PASSWORD: "Oracle password",
    SecretName.MAILCHIMP_API_KEY: "Mailchimp API key",
    SecretName.MAILCHIMP_OAUTH_TOKEN: "Mailchimp OAuth token",
    SecretName.ALERT_WEBHOOK_URL: "alert webhook URL",
}
# Secrets a tenant may hold or not, whatever its auth modes; kept until removed on purpose.
OPTIONAL_SECRETS = frozenset({SecretName.ALERT_WEBHOOK_URL})
# Sent with HTTP Basic auth (requests encodes user and password latin-1).
_BASIC_AUTH_SECRETS = frozenset({SecretName.ORACLE_CLIENT_SECRET, SecretName.ORACLE_PASSWORD})


def secret_problem(name: SecretName, secret: SecretStr) -> str | None:
    """`the Mailchimp API key has leading or trailing whitespace`, or None when the value may be stored."""
    value = secret.get_secret_value()
    title = f"the {SECRET_TITLES[name]}"
    if not value:
        return f"{title} is empty"
    if len(value) > MAX_SECRET_CHARS:
        return f"{title} is {len(value):,} characters long; at most {MAX_SECRET_CHARS:,} are allowed"
    if value != value.strip():
        return f"{title} has leading or trailing whitespace; remove it (it would be sent as part of it)"
    if invisible_character(value) is not None:
        return f"{title} contains a control or invisible character (the value is not shown)"
    if name in _BASIC_AUTH_SECRETS and not is_latin1(value):
        return (
            f"{title} contains a character that is not latin-1; it must be ASCII or latin-1 text, "
            "as HTTP Basic auth sends it (the value is not shown)"
        )
    if name is SecretName.MAILCHIMP_API_KEY:
        try:
            data_center(value)
        except MalformedApiKey as exc:
            return str(exc)
    if name is SecretName.ALERT_WEBHOOK_URL:
        problem = webhook_url_problem(value)
        return f"{title} is refused: {problem} (the URL is not shown)" if problem else None
    if name is SecretName.MAILCHIMP_OAUTH_TOKEN and (not value.isascii() or any(c.isspace() for c in value)):
        return f"{title} must be ASCII without spaces, as an HTTP header carries it (the value is not shown)"
    return None


class SecretValueError(UserError):
    """A credential given for a tenant would not work on the wire; nothing was stored."""


def check_secrets(config: TenantConfig, secrets: Mapping[SecretName, SecretStr], subject: str) -> None:
    """Raise `SecretValueError` for the first secret that breaks a rule here or in a client's model."""
    for name, value in secrets.items():
        problem = secret_problem(name, value)
        if problem is not None:
            raise SecretValueError(f"{subject}: {problem}")
    oracle = secrets.get(config.oracle.secret_name)
    mailchimp = secrets.get(config.mailchimp.secret_name)
    try:
        if oracle is not None:
            fusion_connection_for(config.id, config.oracle, oracle)
        if mailchimp is not None:
            mailchimp_connection_for(config.mailchimp, mailchimp)
    except ClientSettingError as exc:
        raise SecretValueError(f"{subject}: {exc.path}: {exc}") from None
