"""The one object the Dagster layer needs for sync state: reads per table and the atomic `commit_run`."""

from oracle_mailchimp_dagster.store.audience_events import AudienceEventStore
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.ledger import LedgerStore
from oracle_mailchimp_dagster.store.marks import MarkStore
from oracle_mailchimp_dagster.store.members import MemberStateStore
from oracle_mailchimp_dagster.store.migrate import ensure_schema_current
from oracle_mailchimp_dagster.store.records import CommitSummary, RunCommit
from oracle_mailchimp_dagster.store.retry_queue import RetryQueueStore
from oracle_mailchimp_dagster.store.runs import commit_run, refresh_statistics


class SyncStore:
    """Sync state of every tenant.

    `marks`, `members`, `ledger`, `retries` and `audience` read; `commit_run` is the only way a run
    writes, so the mark never moves without the ledger rows that justify it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.marks = MarkStore(db)
        self.members = MemberStateStore(db)
        self.ledger = LedgerStore(db)
        self.retries = RetryQueueStore(db)
        self.audience = AudienceEventStore(db)

    @classmethod
    def open(cls, db: Database | None = None) -> "SyncStore":
        """The configured database, after checking its schema is the one this code needs."""
        db = Database.from_url() if db is None else db
        ensure_schema_current(db)
        return cls(db)

    def commit_run(self, tenant_id: str, commit: RunCommit) -> CommitSummary:
        """One transaction: a whole run's outcomes, or one chunk's (see `pipeline.apply`)."""
        return commit_run(self.db, tenant_id, commit)

    def refresh_statistics(self) -> None:
        refresh_statistics(self.db)
