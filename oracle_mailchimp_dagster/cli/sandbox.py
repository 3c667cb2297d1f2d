"""`oracle-mailchimp sandbox serve`: both simulators in the foreground until interrupted."""

import os
import signal
import threading
from pathlib import Path

import click

from oracle_mailchimp_dagster.errors import UserError


@click.group()
def sandbox() -> None:
    """The built-in Oracle Fusion and Mailchimp simulators."""


def private_env_file(path: Path) -> None:
    """Make `path` 0600 before the sandbox credentials are written into it (a new file and an old one)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        path.chmod(0o600)
    except OSError as exc:
        raise UserError(f"cannot write env file {path}: {exc.strerror}") from None


@sandbox.command()
@click.option(
    "--fusion-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = free port"
)
@click.option("--mailchimp-port", type=click.IntRange(0, 65535), default=0, show_default=True)
@click.option("--customers", type=click.IntRange(0, 5_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--latency", type=click.Choice(["none", "realistic"]), default="none", show_default=True)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the URLs and sandbox credentials here as KEY=VALUE lines.",
)
def serve(
    fusion_port: int,
    mailchimp_port: int,
    customers: int,
    seed: int,
    latency: str,
    env_file: Path | None,
) -> None:
    """Run both simulators on 127.0.0.1 until Ctrl-C or SIGTERM."""
    from oracle_mailchimp_dagster.sandbox.common.errors import SandboxStartError
    from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair

    options = SandboxOptions(fusion_port, mailchimp_port, customers, seed, latency)  # type: ignore[arg-type]
    try:
        pair = SandboxPair(options)
    except SandboxStartError as exc:
        raise UserError(f"sandbox: {exc}") from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if env_file is not None:
            private_env_file(env_file)
            pair.write_env_file(env_file)
        click.echo(f"Oracle Fusion sandbox: {pair.fusion.url} ({customers} customers, latency {latency})")
        click.echo(f"Mailchimp sandbox:     {pair.mailchimp.api_base}")
        for key, value in pair.env().items():
            click.echo(f"  {key}={value}")
        if env_file is not None:
            click.echo(f"Wrote {env_file}")
        click.echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        pair.stop()
        click.echo("Sandbox stopped.")
