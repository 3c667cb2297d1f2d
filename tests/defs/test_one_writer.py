"""One writer per tenant, at the asset level on the doubles: the run's lease is held from the extract
to the commit and released however the run ends (after its last tenant step, or by the step that
failed), a step that starts without it (re-execution) takes it, a run waits for another holder or
fails naming it, and a stale persisted plan writes nothing."""

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.defs.resources import AppDatabase
from oracle_mailchimp_dagster.defs.step import TENANT_STEPS, is_last_tenant_step
from oracle_mailchimp_dagster.fusion import CustomerCursor
from oracle_mailchimp_dagster.mailchimp import MemberOutcome, MemberUpsert, MergeField
from oracle_mailchimp_dagster.pipeline.plan import MemberPlan
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.records import HighWaterMark, RunCommit
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig, mapping_with_company
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.dagster_dev import poll
from tests.support.doubles import (
    AssetRuns,
    InMemoryAudience,
    InMemoryCustomerStream,
    InMemoryFusion,
    InMemoryValues,
    fusion_customer,
    metadata,
)

TENANT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)
ASSETS = (fusion_customers, mailchimp_members, mailchimp_sync_results)


class LeaseWitness:
    """Notes who holds the tenant's lease at each moment a double is called."""

    def __init__(self, db: Database) -> None:
        self.leases = LeaseStore(db)
        self.seen: list[tuple[str, str | None]] = []

    def note(self, moment: str) -> None:
        lease = self.leases.current(TENANT)
        self.seen.append((moment, lease.holder if lease else None))


class WitnessedFusion(InMemoryFusion):
    def __init__(self, witness: LeaseWitness) -> None:
        super().__init__()
        self.witness = witness

    def extract_customers(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: CustomerCursor | None = None,
    ) -> InMemoryCustomerStream:
        self.witness.note("extract")
        return super().extract_customers(since=since, until=until, after=after)


class WitnessedAudience(InMemoryAudience):
    def __init__(self, list_id: str, witness: LeaseWitness) -> None:
        super().__init__(list_id)
        self.witness = witness

    def get_merge_fields(self, list_id: str) -> list[MergeField]:
        self.witness.note("plan")
        return super().get_merge_fields(list_id)

    def upsert_many(self, list_id: str, members: Iterable[MemberUpsert]) -> Iterator[list[MemberOutcome]]:
        self.witness.note("write")
        return super().upsert_many(list_id, members)


@pytest.fixture
def witness(db: Database) -> LeaseWitness:
    return LeaseWitness(db)


@pytest.fixture
def fusion(witness: LeaseWitness) -> InMemoryFusion:
    return WitnessedFusion(witness)


@pytest.fixture
def audience(tenant: TenantConfig, witness: LeaseWitness) -> InMemoryAudience:
    return WitnessedAudience(tenant.mailchimp.list_id, witness)


def seed(fusion: InMemoryFusion, name: str = "Ada") -> None:
    fusion.put(
        fusion_customer(
            1, "a@example.com", NOW - timedelta(minutes=3), PrimaryContactName=f"{name} Lovelace"
        ),
        fusion_customer(2, "b@example.com", NOW - timedelta(minutes=2)),
    )


def with_app_db(materialize: AssetRuns, db: Database, **lease: float) -> None:
    materialize.resources["app_db"] = AppDatabase(
        database_url=db.url.render_as_string(hide_password=False), **lease
    )


def test_the_run_holds_its_lease_from_the_extract_to_the_commit_and_then_releases_it(
    materialize: AssetRuns, fusion: InMemoryFusion, witness: LeaseWitness, store: SyncStore
) -> None:
    seed(fusion)
    result = materialize(*ASSETS)

    assert witness.seen == [("extract", result.run_id), ("plan", result.run_id), ("write", result.run_id)]
    assert witness.leases.current(TENANT) is None
    assert metadata(result, "fusion_customers")["lease_waited_s"] < 1.0
    assert store.marks.version(TENANT) == 1


def test_a_failed_run_releases_its_lease(
    materialize: AssetRuns,
    fusion: InMemoryFusion,
    witness: LeaseWitness,
    tenant: TenantConfig,
    registry: TenantRegistry,
) -> None:
    """The plan step fails (a mapping the audience lacks): the results step is skipped, so the
    failing step lets go of the lease the first two steps held."""
    registry.update(tenant.model_copy(update={"mapping": mapping_with_company()}))
    seed(fusion)
    with pytest.raises(dg.Failure):
        materialize(*ASSETS)
    assert [holder is not None for _, holder in witness.seen] == [True, True]
    assert witness.leases.current(TENANT) is None


def test_a_run_of_the_extract_alone_releases_the_lease_when_it_ends(
    materialize: AssetRuns, fusion: InMemoryFusion, witness: LeaseWitness
) -> None:
    seed(fusion)
    result = materialize(fusion_customers)
    assert witness.seen == [("extract", result.run_id)]
    assert witness.leases.current(TENANT) is None


@pytest.mark.parametrize(
    ("step", "run_steps", "last"),
    [
        ("fusion_customers", None, False),
        ("mailchimp_members", None, False),
        ("mailchimp_sync_results", None, True),
        ("fusion_customers", ["fusion_customers", "mailchimp_members"], False),
        ("mailchimp_members", ["fusion_customers", "mailchimp_members"], True),
        ("mailchimp_sync_results", ["mailchimp_sync_results"], True),
        ("fusion_customers", ["fusion_customers"], True),
    ],
)
def test_the_last_tenant_step_of_a_run(step: str, run_steps: list[str] | None, last: bool) -> None:
    assert is_last_tenant_step(step, run_steps) is last


def test_the_tenant_steps_are_the_assets_in_run_order() -> None:
    assert tuple(a.key.to_user_string() for a in ASSETS) == TENANT_STEPS


def test_a_re_executed_results_step_takes_the_lease_itself(
    materialize: AssetRuns, fusion: InMemoryFusion, witness: LeaseWitness
) -> None:
    seed(fusion)
    planned = materialize(fusion_customers, mailchimp_members)
    assert witness.leases.current(TENANT) is None

    executed = materialize(*ASSETS, selection=[mailchimp_sync_results])
    assert witness.seen[-1] == ("write", executed.run_id) and executed.run_id != planned.run_id
    assert witness.leases.current(TENANT) is None


def test_a_run_fails_at_once_naming_the_run_that_holds_the_tenant(
    materialize: AssetRuns, fusion: InMemoryFusion, witness: LeaseWitness, db: Database
) -> None:
    other = witness.leases.try_acquire(TENANT, "other-run", timedelta(minutes=5))
    assert other is not None
    with_app_db(materialize, db, lease_wait_seconds=0)
    seed(fusion)

    with pytest.raises(dg.Failure) as failure:
        materialize(*ASSETS)

    until = other.expires_at.isoformat(timespec="seconds")
    assert (
        failure.value.description == f"tenant 'acme' is being synced by run other-run (lease until {until})"
    )
    assert fusion.calls == []  # failed before the mark was even read
    assert witness.leases.current(TENANT) == other


def test_a_run_waits_for_the_holder_and_proceeds_once_it_is_done(
    materialize: AssetRuns,
    fusion: InMemoryFusion,
    witness: LeaseWitness,
    instance: dg.DagsterInstance,
    store: SyncStore,
) -> None:
    other = witness.leases.try_acquire(TENANT, "other-run", timedelta(minutes=5))
    assert other is not None
    seed(fusion)
    before = {run.run_id for run in instance.get_runs()}

    def release_once_the_run_says_it_waits() -> None:
        def waiting() -> bool:
            for run in instance.get_runs():
                if run.run_id not in before:
                    logs = instance.all_logs(run.run_id)
                    return any("is being synced by run other-run" in (e.message or "") for e in logs)
            return False

        poll(waiting, timeout_s=30, what="the run logging that it waits")
        witness.leases.release(other)

    releaser = threading.Thread(target=release_once_the_run_says_it_waits)
    releaser.start()
    result = materialize(*ASSETS)
    releaser.join(timeout=30)

    assert metadata(result, "fusion_customers")["lease_waited_s"] > 0
    assert witness.seen[0] == ("extract", result.run_id)
    assert store.marks.version(TENANT) == 1


def test_a_persisted_plan_is_refused_after_another_run_committed_and_writes_nothing(
    materialize: AssetRuns,
    fusion: InMemoryFusion,
    audience: InMemoryAudience,
    values: InMemoryValues,
    store: SyncStore,
) -> None:
    """Run A plans, then fails (as a crash before its results step would); run B syncs a rename and
    commits; A re-executed from its results step must not write its old plan."""
    seed(fusion, name="Ada")
    materialize(fusion_customers, mailchimp_members)
    stale: MemberPlan = values.get("mailchimp_members", TENANT)
    assert stale.state_version == 0

    fusion.put(
        fusion_customer(1, "a@example.com", NOW - timedelta(minutes=1), PrimaryContactName="Grace Hopper")
    )
    newer = materialize(*ASSETS)
    writes = len(audience.writes)
    values.put("mailchimp_members", stale, TENANT)

    with pytest.raises(dg.Failure) as failure:
        materialize(*ASSETS, selection=[mailchimp_sync_results])

    assert failure.value.description == (
        "tenant 'acme': the plan was made against state version 0, the tenant is now at 1 "
        f"(run {newer.run_id} committed since); re-run the sync"
    )
    assert len(audience.writes) == writes
    member = audience.member("a@example.com")
    assert member is not None and member.merge_fields["FNAME"] == "Grace"
    assert store.marks.version(TENANT) == 1


def test_a_plan_is_refused_when_the_mark_moved_since_its_extract(
    materialize: AssetRuns, fusion: InMemoryFusion, audience: InMemoryAudience, store: SyncStore
) -> None:
    seed(fusion)
    materialize(fusion_customers)  # extracted from no mark
    moved = HighWaterMark(NOW, 99)
    store.commit_run(TENANT, RunCommit("run-B", NOW, new_mark=moved, planned_version=0))

    with pytest.raises(dg.Failure) as failure:
        materialize(fusion_customers, mailchimp_members, selection=[mailchimp_members])

    now_at = f"{moved.timestamp.isoformat()} / PartyId 99"
    assert failure.value.description == (
        f"tenant 'acme': the plan was made from mark none, the tenant's mark is now {now_at} "
        "(run run-B committed since); re-run the sync"
    )
    assert audience.writes == []
