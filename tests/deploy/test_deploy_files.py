"""deploy/ as far as this machine can check it (no Docker engine, no cluster, no helm): every file
parses; the image's entrypoint, the compose services and the Helm code server start the very commands
the split-topology test runs; the image is multi-stage, pinned and not root; the Helm values name the
K8sRunLauncher and read the master key from a secret; the run limits are the repository's everywhere;
and deploy/dagster.yaml and deploy/workspace.yaml pass Dagster's own config schemas, the instance
loading for real against the local PostgreSQL server."""

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import validate_config
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.instance.config import dagster_instance_config
from dagster._core.scheduler.instigation import TickStatus
from dagster._core.workspace.config_schema import process_workspace_config
from dagster_postgres import PostgresRunStorage

from oracle_mailchimp_dagster.defs.run_coordinator import TenantTaggingRunCoordinator
from oracle_mailchimp_dagster.secrets import MASTER_KEY_ENV
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV
from tests.support.scratch_db import scratch_postgres_database
from tests.support.split_topology import (
    COMMANDS,
    DEPLOY,
    HOST,
    PORT_SLOT,
    REPO,
    WORKSPACE_SLOT,
    fill,
    match,
)

HELM = DEPLOY / "helm"
IMAGE_WORKSPACE = "/opt/dagster/app/workspace.yaml"
IMAGE_CODE_SERVER_PORT = "4000"
# The chart's code-server container: `args: ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p",
# "<port>", <codeServerArgs>...]` (helm/dagster/charts/dagster-user-deployments, deployment-user.yaml).
CHART_CODE_SERVER_PREFIX = ("dagster", "code-server", "start", "-h", "0.0.0.0", "-p")
ENTRYPOINT_ROLE = re.compile(r'^\s*([a-z-]+)\)\s*shift;\s*exec (.+?) "\$@"\s*;;\s*$')


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    return dict(load(DEPLOY / "docker-compose.yaml"))


def helm_values() -> dict[str, Any]:
    return dict(load(HELM / "values.yaml"))


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    return [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def entrypoint_roles() -> dict[str, list[str]]:
    """Each role of deploy/entrypoint.sh and the command it execs (before the caller's own "$@")."""
    roles = {}
    for line in (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8").splitlines():
        found = ENTRYPOINT_ROLE.match(line)
        if found:
            roles[found.group(1)] = shlex.split(found.group(2))
    return roles


def run_limits(settings: dict[str, Any]) -> dict[str, Any]:
    """A dagster.yaml's run coordinator and run limits, in one comparable shape."""
    runs = settings["concurrency"]["runs"]
    return {
        "run_coordinator": settings["run_coordinator"],
        "max_concurrent_runs": runs["max_concurrent_runs"],
        "tag_concurrency_limits": runs["tag_concurrency_limits"],
    }


def env_entry(env: list[dict[str, Any]], name: str) -> dict[str, Any]:
    entries = [e for e in env if e["name"] == name]
    assert len(entries) == 1, f"{name} set {len(entries)} times in {env}"
    return entries[0]


def test_every_deploy_file_parses() -> None:
    files = sorted([*DEPLOY.glob("*.yaml"), *HELM.glob("*.yaml")])
    assert {f.name for f in files} >= {
        "dagster.yaml",
        "workspace.yaml",
        "docker-compose.yaml",
        "values.yaml",
        "db-upgrade-job.yaml",
    }
    for path in files:
        assert isinstance(load(path), dict), path
    assert (DEPLOY / "Dockerfile").is_file() and (REPO / "docs" / "DEPLOY.md").is_file()


def test_the_image_entrypoint_starts_the_split_topology_commands() -> None:
    roles = entrypoint_roles()
    assert sorted(roles) == sorted(COMMANDS)
    slots = {name: match(COMMANDS[name], argv) for name, argv in roles.items()}
    assert all(found is not None for found in slots.values()), (roles, COMMANDS)
    assert slots["code-server"] == {"{host}": "0.0.0.0", PORT_SLOT: IMAGE_CODE_SERVER_PORT}
    assert slots["webserver"] == {"{host}": "0.0.0.0", PORT_SLOT: "3000", WORKSPACE_SLOT: IMAGE_WORKSPACE}
    assert slots["daemon"] == {WORKSPACE_SLOT: IMAGE_WORKSPACE}
    script = (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8")
    assert '[ "$#" -gt 0 ] || set -- code-server' in script and "umask 077" in script
    assert '*) exec "$@" ;;' in script  # the chart's own `dagster code-server start ...` passes through


IMAGE_SLOTS = {
    "db-upgrade": {},
    "code-server": {"host": "0.0.0.0", "port": IMAGE_CODE_SERVER_PORT},
    "webserver": {"host": "0.0.0.0", "port": "3000", "workspace": IMAGE_WORKSPACE},
    "daemon": {"workspace": IMAGE_WORKSPACE},
}


def test_the_entrypoint_execs_each_role_under_sh_with_umask_077(tmp_path: Path) -> None:
    """deploy/entrypoint.sh run by /bin/sh (dash on Debian, as in the image), with stand-ins for
    the programs that print their umask and argv: each role execs its command, extra arguments
    follow it, no role means the code server, and anything else runs as given."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for program in {template[0] for template in COMMANDS.values()}:
        stub = stubs / program
        stub.write_text('#!/bin/sh\numask\nprintf "%s\\n" "$(basename "$0")" "$@"\n', encoding="utf-8")
        stub.chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin"}

    def execs(*args: str) -> list[str]:
        done = subprocess.run(
            ["/bin/sh", str(DEPLOY / "entrypoint.sh"), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done
        umask, *argv = done.stdout.splitlines()
        assert umask == "0077", done.stdout
        return argv

    for role, template in COMMANDS.items():
        assert execs(role) == fill(template, **IMAGE_SLOTS[role]), role
    assert execs() == fill(COMMANDS["code-server"], **IMAGE_SLOTS["code-server"])
    assert execs("webserver", "--path-prefix", "/dagster")[-2:] == ["--path-prefix", "/dagster"]
    assert execs("dagster", "api", "grpc", "-p", "4000") == ["dagster", "api", "grpc", "-p", "4000"]


def test_compose_services_run_the_split_topology_commands() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", *COMMANDS}
    for name, template in COMMANDS.items():
        assert match(template, services[name]["command"]) is not None, (name, services[name]["command"])
    env = services["code-server"]["environment"]
    code_server = match(COMMANDS["code-server"], services["code-server"]["command"])
    assert code_server is not None and code_server[PORT_SLOT] == env["DAGSTER_CODE_SERVER_PORT"]
    assert env["DAGSTER_CODE_SERVER_HOST"] == "code-server"
    for name in ("webserver", "daemon"):
        found = match(COMMANDS[name], services[name]["command"])
        assert found is not None and found[WORKSPACE_SLOT] == IMAGE_WORKSPACE
    # db upgrade first, then the code server, then the rest.
    assert services["code-server"]["depends_on"] == {
        "db-upgrade": {"condition": "service_completed_successfully"}
    }
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"] == {"code-server": {"condition": "service_healthy"}}
    assert services["db-upgrade"]["restart"] == "no"


def test_compose_takes_every_secret_from_the_environment() -> None:
    text = (DEPLOY / "docker-compose.yaml").read_text(encoding="utf-8")
    services = compose()["services"]
    for name in COMMANDS:
        env = services[name]["environment"]
        assert env[MASTER_KEY_ENV].startswith("${ORACLE_MAILCHIMP_MASTER_KEY:?"), name
        assert env["DAGSTER_PG_PASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?"), name
        assert "${DAGSTER_PG_PASSWORD}" in env[DATABASE_URL_ENV], name
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?")
    # Nothing that looks like a Fernet key or a password literal.
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text)
    assert not re.search(r"postgresql://[^:]+:[^$@]+@", text)
    # The UI is published on the host's loopback only.
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assert f"\n{MASTER_KEY_ENV}=\n" in example and "\nDAGSTER_PG_PASSWORD=\n" in example
    assert ".env" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()


def test_dockerfile_is_multi_stage_pinned_and_not_root() -> None:
    lines = dockerfile_lines()
    base = next(line.split("=", 1)[1] for line in lines if line.startswith("ARG PYTHON_IMAGE="))
    pinned = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", base)
    assert pinned, base
    # The image runs the Python the tests run on.
    assert (int(pinned.group(1)), int(pinned.group(2))) == sys.version_info[:2]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM ${PYTHON_IMAGE} AS build", "FROM ${PYTHON_IMAGE} AS runtime"]
    runtime = lines[lines.index(stages[1]) :]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    uid = next(line.split("=", 1)[1] for line in runtime if line.startswith("ARG UID="))
    assert users == ["${UID}:${UID}"] and int(uid) >= 1000
    build = lines[: lines.index(stages[1])]
    assert any(
        "pip install -c requirements.lock . " in f"{line} " for line in build if line.startswith("RUN ")
    )
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    home = re.search(r"DAGSTER_HOME=(\S+)", " ".join(runtime))
    assert home is not None
    copies = {line.split()[-2]: line.split()[-1] for line in runtime if line.startswith("COPY ")}
    assert copies["deploy/dagster.yaml"] == f"{home.group(1)}/dagster.yaml"
    assert copies["deploy/workspace.yaml"] == IMAGE_WORKSPACE
    assert lines[-2:] == ['ENTRYPOINT ["oracle-mailchimp-entrypoint"]', 'CMD ["code-server"]']
    assert copies["deploy/entrypoint.sh"] == "/usr/local/bin/oracle-mailchimp-entrypoint"


def test_helm_values_run_the_image_with_the_k8s_run_launcher_and_the_key_from_a_secret() -> None:
    values = helm_values()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] is True
    argv = [*CHART_CODE_SERVER_PREFIX, str(deployment["port"]), *deployment["codeServerArgs"]]
    assert match(COMMANDS["code-server"], argv) == {"{host}": "0.0.0.0", PORT_SLOT: str(deployment["port"])}
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}  # runs' pods get the env too
    image = deployment["image"]
    # The webserver and the daemon load the run coordinator and the K8sRunLauncher: the same image.
    assert values["dagsterWebserver"]["image"] == image == values["dagsterDaemon"]["image"]
    assert image["repository"] and image["tag"] != "latest"
    for part in (values["dagsterWebserver"], values["dagsterDaemon"], deployment):
        key = env_entry(part["env"], MASTER_KEY_ENV)
        assert set(key) == {"name", "valueFrom"}, key  # never a literal value
        assert set(key["valueFrom"]["secretKeyRef"]) == {"name", "key"}
        assert set(env_entry(part["env"], DATABASE_URL_ENV)) == {"name", "valueFrom"}
        assert part["podSecurityContext"]["runAsNonRoot"] is True
    postgres = values["postgresql"]
    assert postgres["postgresqlPassword"] == "" and values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert postgres["postgresqlScheme"] == "postgresql+psycopg2"


def test_run_limits_are_the_repositorys_in_every_deploy_file() -> None:
    expected = run_limits(load(REPO / "dagster.postgres.yaml"))
    assert run_limits(load(REPO / "dagster.yaml")) == expected
    assert run_limits(load(DEPLOY / "dagster.yaml")) == expected
    coordinator = helm_values()["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "CustomRunCoordinator"
    custom = coordinator["config"]["customRunCoordinator"]
    assert {
        "run_coordinator": {"module": custom["module"], "class": custom["class"]},
        "max_concurrent_runs": custom["config"]["max_concurrent_runs"],
        "tag_concurrency_limits": custom["config"]["tag_concurrency_limits"],
    } == expected
    # The chart hands that config to the coordinator class as it is: the class must accept it.
    checked = validate_config(TenantTaggingRunCoordinator.config_type(), custom["config"])
    assert checked.success, checked.errors
    assert (custom["module"], custom["class"]) == (
        TenantTaggingRunCoordinator.__module__,
        TenantTaggingRunCoordinator.__name__,
    )


def test_workspace_points_at_the_code_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_CODE_SERVER_HOST", HOST)
    monkeypatch.setenv("DAGSTER_CODE_SERVER_PORT", "4000")
    processed = process_workspace_config(load(DEPLOY / "workspace.yaml"))
    assert processed.success, processed.errors
    value = processed.value
    assert value is not None
    load_from = value["load_from"]
    assert isinstance(load_from, list)
    (location,) = load_from
    assert location["grpc_server"]["host"] == HOST and location["grpc_server"]["port"] == 4000


def test_deploy_dagster_yaml_loads_as_an_instance_on_the_local_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (DEPLOY / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with scratch_postgres_database("omd_deploy_yaml") as url:
        for name, value in {
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_HOST": HOST,
            "DAGSTER_PG_PORT": str(url.port or 5432),
            "DAGSTER_PG_USERNAME": url.username or "postgres",
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": str(url.database),
        }.items():
            monkeypatch.setenv(name, value)
        settings, custom_class = dagster_instance_config(str(home))  # Dagster's schema check
        assert custom_class is None and set(settings) >= {"storage", "run_coordinator", "run_monitoring"}
        instance = DagsterInstance.from_config(str(home))
        try:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert f"@{HOST}:" in instance.run_storage.postgres_url
            assert instance.run_storage.postgres_url.endswith(f"/{url.database}")
            assert instance.get_runs() == []  # the storage was created and answers
            assert isinstance(instance.run_coordinator, TenantTaggingRunCoordinator)
            limits = instance.get_concurrency_config().run_queue_config  # what the daemon dequeues by
            assert limits is not None
            assert limits.max_concurrent_runs == 8
            assert {limit["key"] for limit in limits.tag_concurrency_limits} == {
                "dagster/partition",
                "oracle_mailchimp/mailchimp_key",
            }
            assert instance.run_monitoring_enabled
            assert instance.run_monitoring_start_timeout_seconds == 300
            sensor_ticks = instance.get_tick_retention_settings(InstigatorType.SENSOR)
            assert sensor_ticks[TickStatus.SKIPPED] == 7 and sensor_ticks[TickStatus.FAILURE] == 30
        finally:
            instance.dispose()
