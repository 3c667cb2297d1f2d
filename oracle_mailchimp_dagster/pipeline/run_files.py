"""Where a step keeps its frames: a folder per tenant, asset and run under the instance's storage.

Dagster's default IO manager keeps one pickled value per asset partition, the latest run's; a step
output here is the same: a small manifest in that pickle, naming a folder of frames. So a step that
has written its folder deletes the folders of earlier runs of the same tenant and asset (no manifest
still reachable names them), and the disk holds one run's frames per asset and tenant.
"""

import shutil
from pathlib import Path

from oracle_mailchimp_dagster.pipeline.frames import private_directory

FOLDER = "oracle_mailchimp_chunks"


def step_directory(storage: str | Path, tenant_id: str, asset: str, run_id: str) -> Path:
    """The run's empty folder for this asset and tenant (emptied if a retried step left frames)."""
    directory = Path(storage) / FOLDER / tenant_id / asset / run_id
    if directory.exists():
        shutil.rmtree(directory)
    return private_directory(directory)


def prune_other_runs(directory: Path) -> int:
    """Delete the folders of other runs beside `directory`; returns how many went."""
    removed = 0
    for sibling in directory.parent.iterdir():
        if sibling != directory and sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)
            removed += 1
    return removed
