"""`oracle-mailchimp demo`: the README's first command."""

import click


@click.command()
@click.option("--customers", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
@click.option("--latency", type=click.Choice(["none", "realistic"]), default="realistic", show_default=True)
def demo(customers: int, latency: str) -> None:
    """Start the sandbox, run the connector against it and print what happened."""
    from oracle_mailchimp_dagster.demo import run_demo

    run_demo(customers=customers, latency=latency)
