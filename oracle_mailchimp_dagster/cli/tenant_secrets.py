"""The secrets `tenants add` and `tenants update` take: from a variable, stdin, the env file or a prompt.

Never from the command line itself, where the shell history and `ps` would keep them.
"""

import os
import sys
from collections.abc import Mapping
from typing import Any

import click
from pydantic import SecretStr

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.tenants.env_file import MAILCHIMP_SECRET_KEY, ORACLE_SECRET_KEY, read_env_file
from oracle_mailchimp_dagster.tenants.model import MailchimpAuthMode, OracleAuthMode, TenantConfig


def _read_secret(
    what: str, env_var: str | None, from_stdin: bool, file_value: str | None, *, prompt: bool
) -> SecretStr | None:
    """One secret from its variable, stdin, the env file or a hidden prompt; None when not given."""
    if env_var:
        value = os.environ.get(env_var, "")
        if not value:
            raise UserError(f"{what}: environment variable {env_var} is not set or empty")
        return SecretStr(value)
    if from_stdin:
        value = sys.stdin.read().rstrip("\r\n")
        if not value:
            raise UserError(f"{what}: nothing on standard input")
        return SecretStr(value)
    if file_value:
        return SecretStr(file_value)
    if prompt:
        if not sys.stdin.isatty():
            return None
        return SecretStr(click.prompt(what, hide_input=True))
    return None


def read_secrets(
    params: Mapping[str, Any], config: TenantConfig, *, prompt: bool
) -> dict[SecretName, SecretStr]:
    """The tenant's secrets the flags give; with `prompt`, each one missing is asked for or an error."""
    if params.get("oracle_secret_stdin") and params.get("mailchimp_secret_stdin"):
        raise UserError("only one secret can come from standard input; pass the other with --...-env VAR")
    file_values = read_env_file(params["env_file"]) if params.get("env_file") else {}
    oracle_what = "Oracle password" if config.oracle.auth is OracleAuthMode.BASIC else "Oracle client secret"
    mailchimp_what = (
        "Mailchimp API key" if config.mailchimp.auth is MailchimpAuthMode.API_KEY else "Mailchimp OAuth token"
    )
    wanted = [
        (config.oracle.secret_name, oracle_what, "oracle", file_values.get(ORACLE_SECRET_KEY)),
        (config.mailchimp.secret_name, mailchimp_what, "mailchimp", file_values.get(MAILCHIMP_SECRET_KEY)),
    ]
    secrets: dict[SecretName, SecretStr] = {}
    for name, what, role, file_value in wanted:
        value = _read_secret(
            what,
            params.get(f"{role}_secret_env"),
            bool(params.get(f"{role}_secret_stdin")),
            file_value,
            prompt=prompt,
        )
        if value is not None:
            secrets[name] = value
        elif prompt:
            flag = "--oracle-client-secret" if role == "oracle" else "--mailchimp-api-key"
            raise UserError(
                f"no {what} given: pass {flag}-env VAR, {flag}-stdin or --env-file (or run interactively)"
            )
    return secrets
