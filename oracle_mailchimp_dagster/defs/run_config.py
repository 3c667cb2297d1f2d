"""Run config: which customers a run takes (incremental by default) and whether it writes."""

import dagster as dg


class ExtractConfig(dg.Config):
    """Replay routes: `full` resync, a LastUpdateDate window (`since`/`until`), the records of an
    earlier run (`replay_run_id`, optionally `failed_only`), or explicit `customer_keys`.

    `send_while_reading`: customers new to the audience are sent in chunks while the extract still
    reads (in a run that loads and is not a dry run); false sends everything from the results step."""

    full: bool = False
    since: str | None = None
    until: str | None = None
    replay_run_id: str | None = None
    failed_only: bool = False
    customer_keys: list[str] = []
    send_while_reading: bool = True


class ResultsConfig(dg.Config):
    """`dry_run`: plan only; nothing is sent, the ledger and the mark stay as they are."""

    dry_run: bool = False
