"""The instance settings and workspace file `oracle-mailchimp dev` starts `dagster dev` with.

`dagster dev` runs in DAGSTER_HOME, beside the copy of the repository's dagster.yaml: run from the
repository (which holds the original), it warns that "the dagster.yaml file will not be used" although
its copy is. The workspace file moves there too, with its relative paths made absolute, so it names
the same code. Runs print their events at INFO: without `python_logs.python_log_level`, Dagster gives
each run a console logger at DEBUG, which streams every step's events into the terminal.
"""

from pathlib import Path
from typing import Any

import yaml

# Added to the instance settings unless they configure python_logs themselves.
DEV_PYTHON_LOGS = (
    "\n# Added by `oracle-mailchimp dev`: runs print INFO and above to this terminal (Dagster's default\n"
    "# console logger is at DEBUG); every event is still in the run's log in the UI.\n"
    "python_logs:\n  python_log_level: INFO\n"
)
# Load targets whose paths Dagster resolves from the workspace file's folder or from the current one.
PATH_KEYS = ("relative_path", "working_directory")


def dev_instance_settings(settings: str) -> str:
    """The repository's instance settings, runs logging at INFO unless they say otherwise."""
    try:
        document = yaml.safe_load(settings)
    except yaml.YAMLError:
        return settings  # Dagster says what is wrong with it
    if isinstance(document, dict) and "python_logs" in document:
        return settings
    return settings.rstrip("\n") + "\n" + DEV_PYTHON_LOGS


def _absolute(base: Path, value: Any) -> Any:
    return str(base / value) if isinstance(value, str) and not Path(value).is_absolute() else value


def rebased_workspace(workspace_file: Path) -> str:
    """The workspace file with every relative path absolute (from its folder, where `dagster dev`
    ran until now), so that it loads the same code from any folder."""
    base = workspace_file.parent.absolute()
    document = yaml.safe_load(workspace_file.read_text(encoding="utf-8"))
    entries = document.get("load_from") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        for kind, target in entry.items() if isinstance(entry, dict) else ():
            if kind == "python_file" and isinstance(target, str):
                entry[kind] = _absolute(base, target)
            elif isinstance(target, dict):
                for key in PATH_KEYS:
                    if key in target:
                        target[key] = _absolute(base, target[key])
    return yaml.safe_dump(document, sort_keys=False)
