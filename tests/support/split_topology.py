"""The production topology on one machine, for tests: a gRPC code server, `dagster-webserver` and
`dagster-daemon` as separate processes on PostgreSQL storage, with deploy/dagster.yaml and
deploy/workspace.yaml as they ship.

`COMMANDS` is the one statement of how each process is started. The split-topology test runs these
commands; tests/deploy/test_deploy_files.py checks that the image's entrypoint, docker-compose.yaml
and the Helm values start the very same ones (`match`), so what is tested here cannot drift from what
is deployed. Slots (`{host}`, `{port}`, `{workspace}`) are what differs between deployments.

Each process runs in its own session with SIGINT and SIGTERM at their defaults (a test started from a
background job inherits them ignored, and Dagster would then ignore SIGTERM: Dagster notes §0.9), is
stopped with one SIGTERM, and its whole process group is killed if anything outlives the test.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from oracle_mailchimp_dagster.local.dev import group_alive, server_ready
from oracle_mailchimp_dagster.secrets import KEY_FILE_ENV, MASTER_KEY_ENV
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV
from tests.support.dagster_dev import DagsterDev, free_port, poll
from tests.support.scratch_db import scratch_postgres_database

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFINITIONS_MODULE = "oracle_mailchimp_dagster.definitions"
LOCATION_NAME = "oracle_mailchimp"  # deploy/workspace.yaml's location_name

HOST_SLOT, PORT_SLOT, WORKSPACE_SLOT = "{host}", "{port}", "{workspace}"
SLOTS = frozenset({HOST_SLOT, PORT_SLOT, WORKSPACE_SLOT})
# How each process of a deployment is started (argv; slots filled per deployment).
COMMANDS: dict[str, tuple[str, ...]] = {
    "db-upgrade": ("oracle-mailchimp", "db", "upgrade"),
    "code-server": (
        "dagster", "code-server", "start", "-h", HOST_SLOT, "-p", PORT_SLOT, "-m", DEFINITIONS_MODULE,
    ),
    "webserver": ("dagster-webserver", "-h", HOST_SLOT, "-p", PORT_SLOT, "-w", WORKSPACE_SLOT),
    "daemon": ("dagster-daemon", "run", "-w", WORKSPACE_SLOT),
}  # fmt: skip
# Stopped in this order: nothing launches runs once the daemon is gone, nothing asks the code server.
STOP_ORDER = ("daemon", "webserver", "code-server")
# Variables of the test process that must not reach the deployment's processes.
DROPPED_ENV = ("ORACLE_MAILCHIMP_CRASH_AT", KEY_FILE_ENV, MASTER_KEY_ENV, DATABASE_URL_ENV)
READY_TIMEOUT_S = 120.0  # a busy 2-core machine under `make test`; a pass takes ~10 s
STOP_TIMEOUT_S = 30.0  # as `oracle-mailchimp dev` allows `dagster dev`; each took 2-4 s


def fill(template: Sequence[str], **slots: str | int) -> list[str]:
    """`template` with its slots filled (`host=`, `port=`, `workspace=`)."""
    values = {f"{{{name}}}": str(value) for name, value in slots.items()}
    return [values.get(word, word) if word in SLOTS else word for word in template]


def match(template: Sequence[str], argv: Sequence[str]) -> dict[str, str] | None:
    """The slot values that make `template` into `argv`, or None when `argv` is another command."""
    if len(template) != len(argv):
        return None
    found: dict[str, str] = {}
    for word, given in zip(template, argv, strict=True):
        if word in SLOTS:
            if found.setdefault(word, given) != given:
                return None
        elif word != given:
            return None
    return found


def _default_signals() -> None:
    """In the child before exec: SIGINT and SIGTERM back to their defaults, whatever we inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass
class Service:
    """One long-running process of the deployment, in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def assert_running(self) -> None:
        code = self.process.poll()
        assert code is None, f"{self.name} exited with {code}; its log ends:\n{self.log()[-3000:]}"

    def stop(self, timeout_s: float) -> int | None:
        """SIGTERM once and wait; its exit code, or None if it had not exited by the deadline."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill_group(self) -> None:
        """Whatever of its group is left (SIGKILL): a failed test must leave nothing behind either."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def start_service(name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, logs: Path) -> Service:
    """Start `argv` (its program taken from this interpreter's environment) as service `name`."""
    program = BIN / argv[0]
    assert program.is_file(), (
        f"{program} is missing: install the project (`pip install -c requirements.lock .`)"
    )
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(program), *argv[1:]],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,
        )
    return Service(name, process, log_path)


def run_cli(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> str:
    """A one-off command (`oracle-mailchimp ...`) as an operator or a deploy job runs it; its output."""
    done = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    )
    return done.stdout + done.stderr


def code_server_serving(port: int) -> bool:
    """Whether the gRPC code server on `port` answers its health check."""
    from dagster._grpc.client import DagsterGrpcClient

    try:  # nothing listening yet: say so without asking gRPC, which prints each refused connection
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    try:
        return str(DagsterGrpcClient(port=port, host=HOST).health_check_query()) == "SERVING"
    except Exception:
        return False


@dataclass
class Deployment:
    """DAGSTER_HOME with deploy/dagster.yaml, deploy/workspace.yaml, two PostgreSQL databases (Dagster's
    storage and the app database) and a master key in the environment, as in production."""

    root: Path
    dagster_db: str
    app_db_url: str
    master_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    code_server_port: int = field(default_factory=free_port)
    webserver_port: int = field(default_factory=free_port)

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def app_dir(self) -> Path:
        """The processes' working directory (the image's WORKDIR): not the repository."""
        return self.root / "app"

    @property
    def workspace_file(self) -> Path:
        return self.app_dir / "workspace.yaml"

    def prepare(self) -> None:
        self.home.mkdir(mode=0o700, parents=True)
        self.app_dir.mkdir(mode=0o700, parents=True)
        shutil.copyfile(DEPLOY / "dagster.yaml", self.home / "dagster.yaml")
        shutil.copyfile(DEPLOY / "workspace.yaml", self.workspace_file)

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` with the deployment's settings, as docker-compose.yaml and the Helm values set them."""
        env = {k: v for k, v in base.items() if k not in DROPPED_ENV}
        return {
            **env,
            "DAGSTER_HOME": str(self.home),
            "DAGSTER_PG_HOST": HOST,
            "DAGSTER_PG_PORT": "5432",
            "DAGSTER_PG_USERNAME": "postgres",
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": self.dagster_db,
            DATABASE_URL_ENV: self.app_db_url,
            MASTER_KEY_ENV: self.master_key,
            "DAGSTER_CODE_SERVER_HOST": HOST,
            "DAGSTER_CODE_SERVER_PORT": str(self.code_server_port),
        }


@contextmanager
def deployment(root: Path) -> Iterator[Deployment]:
    """A fresh deployment under `root` on two scratch databases, dropped at the end."""
    with (
        scratch_postgres_database("omd_split_dagster") as dagster_db,
        scratch_postgres_database("omd_split_app") as app_db,
    ):
        assert dagster_db.database is not None
        app_url = app_db.render_as_string(hide_password=False)
        found = Deployment(root, dagster_db.database, app_url)
        found.prepare()
        yield found


@dataclass
class Topology:
    """The three running services and a GraphQL client of the webserver (tests.support.dagster_dev)."""

    services: dict[str, Service]
    ui: DagsterDev
    stop_seconds: dict[str, float] = field(default_factory=dict)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> dict[str, int | None]:
        """SIGTERM each service in `STOP_ORDER`; their exit codes (None: still running at the deadline).
        How long each took is kept in `stop_seconds`."""
        codes: dict[str, int | None] = {}
        for name in STOP_ORDER:
            began = time.monotonic()
            codes[name] = self.services[name].stop(timeout_s)
            self.stop_seconds[name] = round(time.monotonic() - began, 1)
        return codes

    def groups_left(self, timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
        """The services any process of whose group is still alive `timeout_s` after this is called
        (a code server's own gRPC child and a run's process exit after it)."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = [name for name, service in self.services.items() if group_alive(service.process.pid)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    def logs(self) -> dict[str, str]:
        return {name: service.log() for name, service in self.services.items()}


@contextmanager
def running_topology(dep: Deployment, env: Mapping[str, str], logs: Path) -> Iterator[Topology]:
    """Code server first (until it serves), then the webserver and the daemon on the workspace that
    points at it; yields once the webserver has loaded the location. Anything left is killed after."""
    services: dict[str, Service] = {}
    try:
        workspace = str(dep.workspace_file)
        code_server = COMMANDS["code-server"]
        services["code-server"] = start_service(
            "code-server", fill(code_server, host=HOST, port=dep.code_server_port), env, dep.app_dir, logs
        )

        def serving() -> bool:
            services["code-server"].assert_running()
            return code_server_serving(dep.code_server_port)

        poll(serving, READY_TIMEOUT_S, f"the code server serves on port {dep.code_server_port}")
        webserver = fill(COMMANDS["webserver"], host=HOST, port=dep.webserver_port, workspace=workspace)
        services["webserver"] = start_service("webserver", webserver, env, dep.app_dir, logs)
        daemon = fill(COMMANDS["daemon"], workspace=workspace)
        services["daemon"] = start_service("daemon", daemon, env, dep.app_dir, logs)

        def ui_ready() -> bool:
            for service in services.values():
                service.assert_running()
            return server_ready(dep.webserver_port)

        poll(ui_ready, READY_TIMEOUT_S, f"the webserver answers on port {dep.webserver_port}")
        ui = DagsterDev(services["webserver"].process, dep.webserver_port, services["webserver"].log_path)
        assert ui.location_name() == LOCATION_NAME
        yield Topology(services, ui)
    finally:
        for service in services.values():
            service.kill_group()


@dataclass(frozen=True)
class Sandbox:
    """`oracle-mailchimp sandbox serve` running, and the settings it wrote to its env file."""

    env_file: Path
    settings: dict[str, str]

    @property
    def mailchimp_url(self) -> str:
        return self.settings["MAILCHIMP_API_BASE"].removesuffix("/3.0")

    def secrets(self) -> tuple[str, ...]:
        key = self.settings["MAILCHIMP_API_KEY"]
        return (self.settings["ORACLE_CLIENT_SECRET"], key, key.partition("-")[0])

    def live_members(self) -> list[str]:
        """The addresses of the default audience's members that are not archived (control API)."""
        list_id = self.settings["MAILCHIMP_LIST_ID"]
        body = requests.get(f"{self.mailchimp_url}/__sandbox/lists/{list_id}/members", timeout=30).json()
        return sorted(m["email_address"].lower() for m in body["members"] if m["status"] != "archived")


def _env_file_settings(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    if "MAILCHIMP_LIST_ID=" not in text or not text.endswith("\n"):
        return None
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@contextmanager
def sandbox_serve(root: Path, customers: int, logs: Path) -> Iterator[Sandbox]:
    """Both simulators as a user starts them (`oracle-mailchimp sandbox serve --env-file`), stopped
    with SIGTERM at the end."""
    env_file = root / "sandbox.env"
    argv = [
        "oracle-mailchimp",
        "sandbox",
        "serve",
        "--customers",
        str(customers),
        "--env-file",
        str(env_file),
    ]
    with ExitStack() as stack:
        service = start_service("sandbox", argv, os.environ, root, logs)
        stack.callback(service.kill_group)

        def written() -> dict[str, str] | None:
            service.assert_running()
            return _env_file_settings(env_file)

        settings = poll(written, READY_TIMEOUT_S, "the sandbox writes its env file", interval_s=0.1)
        yield Sandbox(env_file, settings)
        assert service.stop(STOP_TIMEOUT_S) == 0, service.log()
