"""Client throughput against both sandboxes with the `realistic` latency profile.

    .venv/bin/python -m benchmarks.clients --customers 100000 [--concurrency 8] [--framework-version 2]
                                           [--extract-concurrency 4] [--pipelined]

Starts both sandboxes in-process, extracts every customer from Oracle Fusion (keyset pages of 500),
then upserts one member per distinct email into Mailchimp (batches of 500, in parallel at the
configured concurrency), then gives every loaded member two tags (its customer segment and type)
through bulk static-segment calls, and prints JSON with records per second and measured/ideal time
per phase:

- extraction ideal: for each page, the sandbox's 300 ms per request plus 1 ms per returned row, and
  300 ms per count planning the slices, divided by the extraction's concurrency (LastUpdateDate
  slices paged at once; `benchmarks.extract` compares concurrencies);
- load ideal: for each batch, 150 ms per request plus 2 ms per member, divided by the concurrency;
- tagging ideal: for each segment call, 150 ms plus 2 ms per address in it, divided by the
  concurrency (the few segment reads and creations before the calls are not in the ideal).

`--pipelined` also runs both at once, as a sync does (the load fed while pages arrive), against the
extraction's ideal plus the one batch that can only leave after the last page.
Exits 1 when a phase ratio exceeds --max-ratio (default 1.2).
"""

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from oracle_mailchimp_dagster.fusion import (
    FusionClient,
    FusionClientOptions,
    FusionConnection,
    FusionCustomer,
    FusionOAuth,
)
from oracle_mailchimp_dagster.mailchimp import (
    MailchimpClient,
    MailchimpClientOptions,
    MailchimpConnection,
    MemberUpsert,
    TagChange,
)
from oracle_mailchimp_dagster.mailchimp.models import tag_key
from oracle_mailchimp_dagster.mailchimp.tagging import plan_tag_changes, segment_calls
from oracle_mailchimp_dagster.sandbox.fusion import (
    ACCOUNTS_PATH,
    FusionSandboxConfig,
    RunningFusionSandbox,
    start_fusion_sandbox,
)
from oracle_mailchimp_dagster.sandbox.mailchimp import (
    MailchimpSandboxConfig,
    RunningMailchimpSandbox,
    start_mailchimp_sandbox,
)

ORACLE_REQUEST_S, ORACLE_ROW_S = 0.300, 0.001
MAILCHIMP_REQUEST_S, MAILCHIMP_MEMBER_S = 0.150, 0.002


def member_for(customer: FusionCustomer) -> MemberUpsert | None:
    """A minimal mapping (the real one lives in sync/): email plus company name."""
    email = (customer.email_address or "").strip()
    if "@" not in email or len(email) < 3:
        return None
    merge_fields: dict[str, str | int | float] = {}
    if customer.organization_name:
        merge_fields["FNAME"] = customer.organization_name[:255]
    return MemberUpsert(email_address=email, status_if_new="subscribed", merge_fields=dict(merge_fields))


def tags_for(customer: FusionCustomer) -> TagChange:
    """Two tags per member, as a sync gives them: the customer's segment (class) and its type."""
    segment = (customer.customer_class_code or "none").lower()
    kind = (customer.type or "unknown").lower()
    return TagChange(add=(f"segment:{segment}", f"type:{kind}"))


def unique_members(
    customers: Iterable[FusionCustomer], tags: dict[str, TagChange] | None = None
) -> Iterator[MemberUpsert]:
    """One member per email address (the first customer wins), as the load sends them.

    When `tags` is given, each member's tag change is recorded there by email.
    """
    seen: set[str] = set()
    for customer in customers:
        member = member_for(customer)
        if member is not None and member.email_address.lower() not in seen:
            seen.add(member.email_address.lower())
            if tags is not None:
                tags[member.email_address] = tags_for(customer)
            yield member


def fusion_client(
    sandbox: RunningFusionSandbox, framework_version: int, extract_concurrency: int = 4
) -> FusionClient:
    config = sandbox.config
    return FusionClient(
        FusionConnection(
            tenant="bench",
            base_url=sandbox.url,
            resource_path=ACCOUNTS_PATH,
            framework_version=framework_version,
            auth=FusionOAuth(
                token_url=sandbox.token_url,
                client_id=config.client_id,
                client_secret=config.client_secret,
                scope=config.scope,
            ),
        ),
        FusionClientOptions(extract_concurrency=extract_concurrency),
    )


def mailchimp_client(sandbox: RunningMailchimpSandbox, concurrency: int) -> MailchimpClient:
    return MailchimpClient(
        MailchimpConnection(api_key=sandbox.config.api_key, api_base=sandbox.api_base),
        MailchimpClientOptions(concurrency=concurrency),
    )


def extract(
    sandbox: RunningFusionSandbox, framework_version: int, extract_concurrency: int
) -> tuple[dict[str, Any], list[MemberUpsert], dict[str, TagChange]]:
    """Every customer, mapped to members as they stream in (the consumer's work overlaps the paging)."""
    client = fusion_client(sandbox, framework_version, extract_concurrency)
    extraction = client.extract_customers()
    tags: dict[str, TagChange] = {}
    started = time.perf_counter()
    members = list(unique_members(extraction, tags))
    seconds = time.perf_counter() - started
    records, pages = extraction.stats.get("records"), extraction.stats.get("pages")
    counts = extraction.stats.get("count_requests")
    paging = pages * ORACLE_REQUEST_S + records * ORACLE_ROW_S + counts * ORACLE_REQUEST_S
    ideal = paging / extract_concurrency
    client.close()
    return (
        {
            "records": records,
            "extract_concurrency": extract_concurrency,
            "pages": pages,
            "count_requests": counts,
            "http_calls": extraction.stats.get("http_calls"),
            "token_fetches": extraction.stats.get("token_fetches"),
            "retries": extraction.stats.get("retries"),
            "seconds": round(seconds, 3),
            "ideal_seconds": round(ideal, 3),
            "ratio": round(seconds / ideal, 4),
            "records_per_second": round(records / seconds, 1),
        },
        members,
        tags,
    )


def load(sandbox: RunningMailchimpSandbox, members: list[MemberUpsert], concurrency: int) -> dict[str, Any]:
    client = mailchimp_client(sandbox, concurrency)
    outcomes: Counter[str] = Counter()
    batch_sizes: list[int] = []
    started = time.perf_counter()
    for batch in client.upsert_many(sandbox.config.list_id, members):
        batch_sizes.append(len(batch))
        outcomes.update(o.result if o.problem is None else f"error:{o.problem.kind}" for o in batch)
    seconds = time.perf_counter() - started
    ideal = sum(MAILCHIMP_REQUEST_S + n * MAILCHIMP_MEMBER_S for n in batch_sizes) / concurrency
    stats = requests.get(f"{sandbox.control_url}/stats", timeout=30).json()
    client.close()
    return {
        "members": len(members),
        "batches": len(batch_sizes),
        "concurrency": concurrency,
        "outcomes": dict(sorted(outcomes.items())),
        "retries": client.stats.get("retries"),
        "sandbox_peak_in_flight": max(stats["peak_in_flight_by_key"].values(), default=0),
        "sandbox_429s": stats["too_many_requests"],
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 4),
        "records_per_second": round(len(members) / seconds, 1),
    }


def tag(sandbox: RunningMailchimpSandbox, tags: dict[str, TagChange], concurrency: int) -> dict[str, Any]:
    """Every loaded member's two tags, applied with bulk static-segment calls."""
    client = mailchimp_client(sandbox, concurrency)
    list_id = sandbox.config.list_id
    started = time.perf_counter()
    problems = client.apply_tag_changes(list_id, tags)
    seconds = time.perf_counter() - started
    # The calls the client made, rebuilt from the same plan and the segments it ended with.
    plan = plan_tag_changes(tags)
    ids = {tag_key(name): segment_id for name, segment_id in client.tag_segments(list_id).items()}
    calls = segment_calls(plan, ids)
    ideal = sum(MAILCHIMP_REQUEST_S + len(c.addresses) * MAILCHIMP_MEMBER_S for c in calls) / concurrency
    stats = client.stats.snapshot()
    client.close()
    return {
        "members": len(tags),
        "tags_applied": sum(len(change.add) for change in tags.values()),
        "distinct_tags": len(plan.names),
        "segment_calls": stats.get("segment_calls", 0),
        "planned_calls": len(calls),
        "segments_created": stats.get("tag_segments_created", 0),
        "http_calls": stats.get("http_calls", 0),
        "problems": dict(sorted(Counter(str(p.kind) for p in problems.values()).items())),
        "retries": stats.get("retries", 0),
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 4),
        "members_per_second": round(len(tags) / seconds, 1),
        "one_call_per_member_ideal_seconds": round(len(tags) * MAILCHIMP_REQUEST_S / concurrency, 1),
    }


def pipelined(
    fusion: RunningFusionSandbox,
    mailchimp: RunningMailchimpSandbox,
    framework_version: int,
    concurrency: int,
    extract_concurrency: int,
) -> dict[str, Any]:
    """Extraction feeding the load while pages arrive, as a sync run does."""
    source = fusion_client(fusion, framework_version, extract_concurrency)
    sink = mailchimp_client(mailchimp, concurrency)
    extraction = source.extract_customers()
    started = time.perf_counter()
    sizes = [len(batch) for batch in sink.upsert_many(mailchimp.config.list_id, unique_members(extraction))]
    seconds = time.perf_counter() - started
    records, pages = extraction.stats.get("records"), extraction.stats.get("pages")
    counts = extraction.stats.get("count_requests")
    last_batch = MAILCHIMP_REQUEST_S + min(sizes, default=0) * MAILCHIMP_MEMBER_S
    paging = pages * ORACLE_REQUEST_S + records * ORACLE_ROW_S + counts * ORACLE_REQUEST_S
    ideal = paging / extract_concurrency + last_batch
    source.close()
    sink.close()
    return {
        "records": records,
        "members": sum(sizes),
        "batches": len(sizes),
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 4),
        "records_per_second": round(records / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8, choices=range(1, 11), metavar="1..10")
    parser.add_argument("--framework-version", type=int, default=2, choices=range(1, 10), metavar="1..9")
    parser.add_argument("--extract-concurrency", type=int, default=4, choices=range(1, 17), metavar="1..16")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-ratio", type=float, default=1.2)
    parser.add_argument("--pipelined", action="store_true", help="also run extraction and load overlapped")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    fusion = start_fusion_sandbox(
        FusionSandboxConfig(customers=args.customers, seed=args.seed, latency="realistic")
    )
    mailchimp = start_mailchimp_sandbox(MailchimpSandboxConfig(seed=args.seed, latency="realistic"))
    setup_s = time.perf_counter() - started
    try:
        extraction, members, tags = extract(fusion, args.framework_version, args.extract_concurrency)
        loading = load(mailchimp, members, args.concurrency)
        tagging = tag(mailchimp, tags, args.concurrency)
        overlapped = None
        if args.pipelined:
            with start_mailchimp_sandbox(
                MailchimpSandboxConfig(seed=args.seed, latency="realistic")
            ) as fresh:
                overlapped = pipelined(
                    fusion, fresh, args.framework_version, args.concurrency, args.extract_concurrency
                )
    finally:
        fusion.stop()
        mailchimp.stop()
    report: dict[str, Any] = {
        "customers": args.customers,
        "framework_version": args.framework_version,
        "sandbox_start_seconds": round(setup_s, 2),
        "extraction": extraction,
        "load": loading,
        "tagging": tagging,
    }
    if overlapped is not None:
        report["pipelined"] = overlapped
    report["max_ratio"] = args.max_ratio
    report["ok"] = all(phase["ratio"] <= args.max_ratio for phase in (extraction, loading, tagging))
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
