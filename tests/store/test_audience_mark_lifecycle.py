"""The audience-events mark goes with its tenant: removed with it, forgotten by a state reset."""

from datetime import UTC, datetime

from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.store import tenant_rows as rows
from oracle_mailchimp_dagster.store.audience_marks import AudienceMarkStore
from oracle_mailchimp_dagster.store.reset import reset_sync_state
from tests.fixtures.store import add_tenant_row

SEEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_removing_a_tenant_removes_its_audience_mark(db: Database) -> None:
    marks = AudienceMarkStore(db)
    for tenant in ("acme", "globex"):
        add_tenant_row(db, tenant)
        marks.advance(tenant, SEEN)
    with db.write() as conn:
        rows.delete_tenant(conn, "acme")
    with db.read() as conn:
        assert rows.select_tenant(conn, "acme") is None
    assert marks.all() == {"globex": SEEN}


def test_a_state_reset_forgets_the_audience_mark_of_that_tenant_only(db: Database) -> None:
    marks = AudienceMarkStore(db)
    for tenant in ("acme", "globex"):
        add_tenant_row(db, tenant)
        marks.advance(tenant, SEEN)
    with db.write() as conn:
        reset_sync_state(conn, "acme", "audience changed", datetime.now(UTC))
    assert marks.get("acme") is None
    assert marks.get("globex") == SEEN
