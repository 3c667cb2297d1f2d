"""The secrets `tenants add` and `tenants update` take: from a variable, stdin, the env file or a prompt.

Never from the command line itself, where the shell history and `ps` would keep them. Each one is
checked as it is read (`tenants.secret_rules`), and a refusal names where it came from, never its value.
"""

import os
import sys
from collections.abc import Mapping
from typing import Any

import click
from pydantic import SecretStr

from oracle_mailchimp_dagster.cli.tenant_settings import SECRET_FLAGS
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.tenants.env_file import MAILCHIMP_SECRET_KEY, ORACLE_SECRET_KEY, read_env_file
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.secret_rules import SECRET_TITLES, secret_problem


def _read_secret(
    name: SecretName, params: Mapping[str, Any], role: str, file_value: str | None, *, prompt: bool
) -> tuple[SecretStr, str] | None:
    """One secret and where it came from: its variable, stdin, the env file or a hidden prompt."""
    what = SECRET_TITLES[name]
    flag = SECRET_FLAGS[name]
    env_var = params.get(f"{role}_secret_env")
    if env_var:
        value = os.environ.get(env_var, "")
        if not value:
            raise UserError(f"{what}: environment variable {env_var} is not set or empty")
        return SecretStr(value), f"{flag}-env {env_var}"
    if params.get(f"{role}_secret_stdin"):
        value = sys.stdin.read().rstrip("\r\n")
        if not value:
            raise UserError(f"{what}: nothing on standard input")
        return SecretStr(value), f"{flag}-stdin"
    if file_value:
        key = ORACLE_SECRET_KEY if role == "oracle" else MAILCHIMP_SECRET_KEY
        return SecretStr(file_value), f"--env-file {params['env_file']} ({key})"
    if prompt and sys.stdin.isatty():
        return SecretStr(click.prompt(what, hide_input=True)), "the prompt"
    return None


def read_secrets(
    params: Mapping[str, Any], config: TenantConfig, *, prompt: bool
) -> dict[SecretName, SecretStr]:
    """The tenant's secrets the flags give, each checked; with `prompt`, each missing one is asked for."""
    if params.get("oracle_secret_stdin") and params.get("mailchimp_secret_stdin"):
        raise UserError("only one secret can come from standard input; pass the other with --...-env VAR")
    file_values = read_env_file(params["env_file"]) if params.get("env_file") else {}
    wanted = [
        (config.oracle.secret_name, "oracle", file_values.get(ORACLE_SECRET_KEY)),
        (config.mailchimp.secret_name, "mailchimp", file_values.get(MAILCHIMP_SECRET_KEY)),
    ]
    secrets: dict[SecretName, SecretStr] = {}
    for name, role, file_value in wanted:
        read = _read_secret(name, params, role, file_value, prompt=prompt)
        if read is not None:
            value, source = read
            problem = secret_problem(name, value)
            if problem is not None:
                raise UserError(f"{source}: {problem}")
            secrets[name] = value
        elif prompt:
            flag = "--oracle-client-secret" if role == "oracle" else "--mailchimp-api-key"
            raise UserError(
                f"no {SECRET_TITLES[name]} given: pass {flag}-env VAR, {flag}-stdin or --env-file "
                "(or run interactively)"
            )
    return secrets
