"""The instance settings and workspace file `oracle-mailchimp dev` writes into DAGSTER_HOME."""

from pathlib import Path

import yaml

from oracle_mailchimp_dagster.local.dev_files import DEV_PYTHON_LOGS, dev_instance_settings, rebased_workspace

REPO = Path(__file__).resolve().parents[2]


def test_runs_log_at_info_and_the_repositorys_settings_and_comments_stay() -> None:
    settings = (REPO / "dagster.yaml").read_text(encoding="utf-8")
    written = dev_instance_settings(settings)
    assert written.startswith(settings.rstrip("\n"))
    assert written.endswith(DEV_PYTHON_LOGS)
    document = yaml.safe_load(written)
    assert document["python_logs"] == {"python_log_level": "INFO"}
    assert {k: v for k, v in document.items() if k != "python_logs"} == yaml.safe_load(settings)


def test_settings_that_configure_python_logs_are_left_as_they_are() -> None:
    settings = "python_logs:\n  python_log_level: DEBUG\ntelemetry:\n  enabled: false\n"
    assert dev_instance_settings(settings) == settings


def test_every_relative_path_of_the_workspace_is_made_absolute_from_its_folder(tmp_path: Path) -> None:
    workspace = tmp_path / "repo" / "workspace.yaml"
    workspace.parent.mkdir()
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"python_module": {"module_name": "pkg.defs", "working_directory": "."}},
                    {"python_module": "plain.module"},
                    {"python_file": "defs.py"},
                    {"python_file": {"relative_path": "src/defs.py", "working_directory": "src"}},
                    {"python_package": {"package_name": "pkg", "working_directory": "/abs/dir"}},
                    {"grpc_server": {"host": "127.0.0.1", "port": 4000}},
                ]
            }
        ),
        encoding="utf-8",
    )
    base = workspace.parent
    assert yaml.safe_load(rebased_workspace(workspace))["load_from"] == [
        {"python_module": {"module_name": "pkg.defs", "working_directory": str(base / ".")}},
        {"python_module": "plain.module"},
        {"python_file": str(base / "defs.py")},
        {"python_file": {"relative_path": str(base / "src/defs.py"), "working_directory": str(base / "src")}},
        {"python_package": {"package_name": "pkg", "working_directory": "/abs/dir"}},
        {"grpc_server": {"host": "127.0.0.1", "port": 4000}},
    ]
