"""`oracle-mailchimp demo`: the README's first command."""

from pathlib import Path

import click


@click.command()
@click.option(
    "--customers",
    type=click.IntRange(50, 1_000_000),
    default=500,
    show_default=True,
    help="Customers the Oracle sandbox generates.",
)
@click.option(
    "--latency",
    type=click.Choice(["none", "realistic"]),
    default="realistic",
    show_default=True,
    help="realistic: Oracle 300 ms per request, Mailchimp 150 ms per request (plus per-record costs).",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the Dagster home, app database and key file here (default: a temporary directory).",
)
def demo(customers: int, latency: str, workdir: Path | None) -> None:
    """Start the sandbox, sync it twice through Dagster (changing customers in between) and print what
    happened. Exits 0 when every change ended as expected."""
    from oracle_mailchimp_dagster.local.demo import DemoOptions, run_demo

    run_demo(DemoOptions(customers, latency, workdir), click.echo)  # type: ignore[arg-type]
