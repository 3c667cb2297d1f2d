"""When the customer whose data a shared member carries leaves the address, the other holders are
read again so the member takes the next newest one's data (found by the chaos run)."""

from datetime import UTC, datetime

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.handover import holders_to_reread
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import MemberState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def customer(n: int, email: str | None, status: str = "A") -> Customer:
    return Customer(
        party_id=n, last_update_date=T0, party_number=f"CDRM_{n}", party_status=status, email_address=email
    )


def state(n: int, email: str, *, wrote: bool, active: bool = True, status: str = "subscribed") -> MemberState:
    return MemberState(
        customer_key=f"CDRM_{n}",
        email=email,
        subscriber_hash=subscriber_hash(email),
        payload_hash="p" if wrote else None,
        known_status=status,
        active=active,
    )


SHARED = [state(1, "shared@acme.io", wrote=True), state(2, "shared@acme.io", wrote=False)]


def states(*items: MemberState) -> dict[str, MemberState]:
    return {s.customer_key: s for s in items}


def test_the_writer_moving_away_rereads_the_other_holders() -> None:
    assert holders_to_reread([customer(1, "own@acme.io")], states(*SHARED)) == {"CDRM_2"}


def test_the_writer_becoming_inactive_rereads_the_other_holders() -> None:
    assert holders_to_reread([customer(1, "shared@acme.io", status="I")], states(*SHARED)) == {"CDRM_2"}


def test_the_writer_staying_or_a_sharer_leaving_rereads_no_one() -> None:
    assert holders_to_reread([customer(1, "SHARED@acme.io ")], states(*SHARED)) == set()
    assert holders_to_reread([customer(2, "own@acme.io")], states(*SHARED)) == set()


def test_holders_already_in_the_batch_inactive_or_without_a_member_are_not_reread() -> None:
    gone = state(3, "shared@acme.io", wrote=False, status="deleted")
    inactive = state(4, "shared@acme.io", wrote=False, active=False)
    batch = [customer(1, "own@acme.io"), customer(2, "shared@acme.io")]
    assert holders_to_reread(batch, states(*SHARED, gone, inactive)) == set()
