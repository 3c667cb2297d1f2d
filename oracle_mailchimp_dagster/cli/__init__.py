"""The `oracle-mailchimp` command: each command group lives in its own module."""

import os
import sys

import click

from oracle_mailchimp_dagster.cli.audit import audit
from oracle_mailchimp_dagster.cli.db import db
from oracle_mailchimp_dagster.cli.demo import demo
from oracle_mailchimp_dagster.cli.dev import dev
from oracle_mailchimp_dagster.cli.keys import keys
from oracle_mailchimp_dagster.cli.reconcile import reconcile
from oracle_mailchimp_dagster.cli.sandbox import sandbox
from oracle_mailchimp_dagster.cli.sync import sync
from oracle_mailchimp_dagster.cli.tenants import tenants
from oracle_mailchimp_dagster.errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oracle-mailchimp-dagster")
def cli() -> None:
    """Sync the Oracle Fusion customer master to Mailchimp audiences with Dagster."""


cli.add_command(sandbox)
cli.add_command(demo)
cli.add_command(dev)
cli.add_command(tenants)
cli.add_command(keys)
cli.add_command(db)
cli.add_command(sync)
cli.add_command(audit)
cli.add_command(reconcile)


# Every file and folder the command (and Dagster, and any child) creates is its user's alone: the app
# database holds credentials (encrypted) and PII, the IO manager's pickles under DAGSTER_HOME hold PII.
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one readable line on stderr and a non-zero exit."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        return _run(argv)
    finally:
        os.umask(previous)  # for callers in the same process (tests); a CLI process ends here anyway


def _run(argv: list[str] | None) -> int:
    try:
        result = cli.main(args=argv, prog_name="oracle-mailchimp", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("oracle-mailchimp: interrupted", err=True)
        return 130
    except click.UsageError as exc:
        click.echo(f"oracle-mailchimp: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"oracle-mailchimp: {exc.format_message()}", err=True)
        return exc.exit_code
    except UserError as exc:
        click.echo(f"oracle-mailchimp: {exc}", err=True)
        return exc.exit_code
    # Without standalone mode, `ctx.exit(n)` comes back as the return value.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
