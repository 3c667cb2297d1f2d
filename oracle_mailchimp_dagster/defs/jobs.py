"""The sync job: the group's three assets for one tenant partition, in one process.

The in-process executor keeps a small incremental run to a couple of seconds; the multiprocess
executor would add seconds of start-up per step for API-bound work that gains nothing from it.
The audience-events asset is in a group of its own (`defs/audience.py`, with its job); the drift
asset (`defs/drift.py`) is in this group, with its own job.
"""

import dagster as dg

# By name, not by group: the drift asset shares the group (it reads what the sync left) but runs on its
# own schedule, in its own job.
SYNC_ASSETS = ("fusion_customers", "mailchimp_members", "mailchimp_sync_results")

tenant_sync_job = dg.define_asset_job(
    "tenant_sync_job",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    executor_def=dg.in_process_executor,
    description="Sync one tenant: Oracle extract -> member plan -> Mailchimp results and ledger.",
)
