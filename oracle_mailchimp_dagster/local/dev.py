"""`oracle-mailchimp dev`: the sandbox and `dagster dev` together, for exploring the connector in the UI.

The sandbox runs in this process; `dagster dev` (webserver, daemon, code server) runs as a child in its
own session, so a Ctrl-C in the terminal reaches only us and we stop it exactly once, with SIGTERM.
Shells that start jobs in the background hand them SIGINT *ignored*, and an ignored signal stays
ignored across exec, which would make `dagster dev` deaf to both SIGINT and SIGTERM (see the Dagster
notes, §0.9). Installing our own handlers before spawning fixes that: handled signals revert to
their default in the child when it execs.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import requests
import yaml

from oracle_mailchimp_dagster.defs.run_coordinator import TenantTaggingRunCoordinator
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.local.demo_workspace import (
    DEMO_TENANT,
    LocalWorkspace,
    demo_status_line,
    register_demo_tenant,
)
from oracle_mailchimp_dagster.local.dev_files import dev_instance_settings, rebased_workspace
from oracle_mailchimp_dagster.sandbox.common.latency import LatencyProfile
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair

HOST = "127.0.0.1"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SHUTDOWN_TIMEOUT_S = 30.0
POLL_S = 0.5
# The env file, the app database and everything `dagster dev` writes (it inherits the umask) are private.
PRIVATE_UMASK = 0o077
# Webserver and daemon (`dagster dev --log-level`); runs print at INFO through the instance settings
# (`local.dev_files`).
DEV_LOG_LEVEL = "info"
# The workspace file `dagster dev` reads, in DAGSTER_HOME (`local.dev_files.rebased_workspace`).
DEV_WORKSPACE_NAME = "workspace.yaml"

Echo = Callable[..., None]


@dataclass(frozen=True)
class DevOptions:
    port: int = 3000
    customers: int = 500
    latency: LatencyProfile = "realistic"
    workspace_file: Path = Path("workspace.yaml")
    home: Path = Path(".dagster_home")
    env_file: Path = Path(".sandbox.env")


def dagster_dev_command(workspace_file: Path, port: int, log_level: str = DEV_LOG_LEVEL) -> list[str]:
    """`dagster dev` from this interpreter's environment, on loopback only, its services at `log_level`."""
    dagster = Path(sys.executable).with_name("dagster")
    if not dagster.exists():
        raise UserError(f"cannot find the dagster command next to {sys.executable}: reinstall the project")
    return [
        str(dagster), "dev", "-w", str(workspace_file), "-h", HOST, "-p", str(port), "--log-level", log_level
    ]  # fmt: skip


def check_port_free(port: int) -> None:
    """Fail before starting anything when the UI port is taken (as uvicorn binds it: SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise UserError(f"port {port} on {HOST} is taken: stop what uses it or pass --port") from None


def server_ready(port: int) -> bool:
    try:
        return requests.get(f"http://{HOST}:{port}/server_info", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created in the block, here and by children started in it, are 0600 and 0700."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


@contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs; the previous handlers come back after."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop_dagster(child: subprocess.Popen[bytes], echo: Echo) -> None:
    """SIGTERM once and wait for `dagster dev` and its children; kill the group only if that hangs."""
    pgid = child.pid  # its own session: the group id is its pid
    if child.poll() is None:
        echo("Stopping dagster dev ...")
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            echo(f"dagster dev did not stop within {SHUTDOWN_TIMEOUT_S:.0f} s: killing it")
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            child.wait()
    # Webserver, daemon and code server normally exit with it; make sure none is left behind.
    if not _wait_group_gone(pgid, SHUTDOWN_TIMEOUT_S / 3):
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        if not _wait_group_gone(pgid, 5.0):
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)


def tags_every_run(instance_settings: str) -> bool:
    """Whether these instance settings (a dagster.yaml) queue runs through the coordinator that tags
    the UI's and backfills' runs with their tenant, Mailchimp key and trigger."""
    try:
        settings = yaml.safe_load(instance_settings)
    except yaml.YAMLError:
        return False
    coordinator = settings.get("run_coordinator") if isinstance(settings, dict) else None
    wanted = (TenantTaggingRunCoordinator.__module__, TenantTaggingRunCoordinator.__name__)
    return isinstance(coordinator, dict) and (coordinator.get("module"), coordinator.get("class")) == wanted


def prepare_workspace(options: DevOptions, pair: SandboxPair, echo: Echo) -> LocalWorkspace:
    """`.dagster_home` with the repository's instance settings (runs logging at INFO), the workspace
    file (`local.dev_files`), the app database and tenant `demo`.

    `dagster dev` reads its run coordinator from those settings: the repository's dagster.yaml names
    the one that tags every run; a copy that does not is said, since the per-key run limit then does
    not hold runs launched from the UI."""
    instance_yaml = options.workspace_file.parent / "dagster.yaml"
    if not instance_yaml.is_file():
        raise UserError(f"{instance_yaml} not found: run `make dev` from the repository root")
    settings = instance_yaml.read_text(encoding="utf-8")
    if not tags_every_run(settings):
        echo(
            f"Warning: {instance_yaml} does not set run_coordinator to "
            f"{TenantTaggingRunCoordinator.__module__}.{TenantTaggingRunCoordinator.__name__}: runs "
            "launched from the UI or a backfill will carry no tenant or Mailchimp-key tag, and the "
            "per-key run limit will not hold them"
        )
    workspace = LocalWorkspace(options.home.absolute())
    workspace.write_instance_config(dev_instance_settings(settings))
    dev_workspace = workspace.dagster_home / DEV_WORKSPACE_NAME
    dev_workspace.write_text(rebased_workspace(options.workspace_file), encoding="utf-8")
    registry = workspace.open_registry()
    try:
        replaced = register_demo_tenant(registry, pair)
        tenant = registry.get(DEMO_TENANT)
    finally:
        registry.db.dispose()
    action = "registered again (new sandbox, fresh sync state)" if replaced else "registered"
    echo(f"Tenant demo {action} in {workspace.dagster_home}")
    echo(f"            {demo_status_line(tenant)}")
    return workspace


def run_dev(options: DevOptions, echo: Echo) -> None:
    """Run until SIGINT or SIGTERM; then stop `dagster dev` and the sandbox, and return normally."""
    workspace_file = options.workspace_file.absolute()
    if not workspace_file.is_file():
        raise UserError(f"{workspace_file} not found: run `make dev` from the repository root")
    options = DevOptions(
        options.port,
        options.customers,
        options.latency,
        workspace_file,
        options.home.absolute(),
        options.env_file.absolute(),
    )
    command = dagster_dev_command(options.home / DEV_WORKSPACE_NAME, options.port)
    check_port_free(options.port)
    url = f"http://{HOST}:{options.port}"
    with private_files(), stop_requested() as stop:
        pair = SandboxPair(SandboxOptions(customers=options.customers, latency=options.latency))
        try:
            pair.write_env_file(options.env_file)
            echo(
                f"Sandbox: Oracle Fusion {pair.fusion.url} ({options.customers} customers), "
                f"Mailchimp {pair.mailchimp.api_base}, latency {options.latency}"
            )
            echo(f"         connection settings in {options.env_file}")
            workspace = prepare_workspace(options, pair, echo)
            if stop.is_set():
                return
            child = subprocess.Popen(
                command,
                cwd=workspace.dagster_home,  # beside its dagster.yaml (`local.dev_files`)
                env=workspace.child_env(os.environ),
                start_new_session=True,
            )
            echo(f"Dagster UI starting at {url} (DAGSTER_HOME={workspace.dagster_home})")
            echo("Press Ctrl-C to stop dagster dev and the sandbox.")
            try:
                _supervise(child, stop, options.port, url, echo)
            finally:
                stop_dagster(child, echo)
        finally:
            pair.stop()
            echo("Sandbox stopped.")


def _supervise(
    child: subprocess.Popen[bytes], stop: threading.Event, port: int, url: str, echo: Echo
) -> None:
    """Wait for a stop signal; say when the UI answers; fail if `dagster dev` exits by itself."""
    ready = False
    while not stop.wait(POLL_S):
        code = child.poll()
        if code is not None:
            raise UserError(f"dagster dev exited on its own with status {code} (its output is above)")
        if not ready and server_ready(port):
            ready = True
            echo(f"Dagster UI ready: {url}")
