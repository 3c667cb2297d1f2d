"""`oracle-mailchimp dev`: the sandbox and the Dagster UI together (`make dev`)."""

from pathlib import Path

import click


@click.command()
@click.option(
    "--port", type=click.IntRange(1, 65535), default=3000, show_default=True, help="Dagster UI port."
)
@click.option("--customers", type=click.IntRange(0, 1_000_000), default=500, show_default=True)
@click.option("--latency", type=click.Choice(["none", "realistic"]), default="realistic", show_default=True)
@click.option(
    "--workspace",
    "workspace_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("workspace.yaml"),
    show_default=True,
    help="Dagster workspace file; the dagster.yaml beside it becomes the instance settings (runs print "
    "INFO and above unless it sets python_logs). Both are copied into --home, where dagster dev runs.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".dagster_home"),
    show_default=True,
    help="DAGSTER_HOME, also holding the app database and master key file (kept between sessions).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".sandbox.env"),
    show_default=True,
    help="Where to write the sandbox's URLs and credentials.",
)
def dev(port: int, customers: int, latency: str, workspace_file: Path, home: Path, env_file: Path) -> None:
    """Start the sandbox, register tenant `demo` and run `dagster dev` (INFO output) until Ctrl-C, which
    stops both."""
    from oracle_mailchimp_dagster.local.dev import DevOptions, run_dev

    options = DevOptions(port, customers, latency, workspace_file, home, env_file)  # type: ignore[arg-type]
    run_dev(options, click.echo)
