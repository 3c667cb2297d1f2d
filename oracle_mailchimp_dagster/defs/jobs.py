"""The sync job: the group's three assets for one tenant partition, in one process.

The in-process executor keeps a small incremental run to a couple of seconds; the multiprocess
executor would add seconds of start-up per step for API-bound work that gains nothing from it.
The audience-events asset is in a group of its own (`defs/audience.py`, with its job), so this
selection never picks it up.
"""

import dagster as dg

from oracle_mailchimp_dagster.defs.assets import GROUP

tenant_sync_job = dg.define_asset_job(
    "tenant_sync_job",
    selection=dg.AssetSelection.groups(GROUP),
    executor_def=dg.in_process_executor,
    description="Sync one tenant: Oracle extract -> member plan -> Mailchimp results and ledger.",
)
