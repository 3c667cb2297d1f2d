"""Client throughput against both sandboxes with the `realistic` latency profile.

    .venv/bin/python -m benchmarks.clients --customers 100000 [--concurrency 8] [--framework-version 2]
                                           [--pipelined]

Starts both sandboxes in-process, extracts every customer from Oracle Fusion (keyset pages of 500),
then upserts one member per distinct email into Mailchimp (batches of 500, in parallel at the
configured concurrency), and prints JSON with records per second and measured/ideal time per phase:

- extraction ideal: for each page, the sandbox's 300 ms per request plus 1 ms per returned row;
- load ideal: for each batch, 150 ms per request plus 2 ms per member, divided by the concurrency.

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

from oracle_mailchimp_dagster.fusion import FusionClient, FusionConnection, FusionCustomer, FusionOAuth
from oracle_mailchimp_dagster.mailchimp import (
    MailchimpClient,
    MailchimpClientOptions,
    MailchimpConnection,
    MemberPayload,
)
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


def member_for(customer: FusionCustomer) -> MemberPayload | None:
    """A minimal mapping (the real one lives in sync/): email plus company name."""
    email = (customer.email_address or "").strip()
    if "@" not in email or len(email) < 3:
        return None
    merge_fields: dict[str, str | int | float] = {}
    if customer.organization_name:
        merge_fields["FNAME"] = customer.organization_name[:255]
    return MemberPayload(email_address=email, status_if_new="subscribed", merge_fields=dict(merge_fields))


def unique_members(customers: Iterable[FusionCustomer]) -> Iterator[MemberPayload]:
    """One member per email address (the first customer wins), as the load sends them."""
    seen: set[str] = set()
    for customer in customers:
        member = member_for(customer)
        if member is not None and member.email_address.lower() not in seen:
            seen.add(member.email_address.lower())
            yield member


def fusion_client(sandbox: RunningFusionSandbox, framework_version: int) -> FusionClient:
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
        )
    )


def mailchimp_client(sandbox: RunningMailchimpSandbox, concurrency: int) -> MailchimpClient:
    return MailchimpClient(
        MailchimpConnection(api_key=sandbox.config.api_key, api_base=sandbox.api_base),
        MailchimpClientOptions(concurrency=concurrency),
    )


def extract(
    sandbox: RunningFusionSandbox, framework_version: int
) -> tuple[dict[str, Any], list[MemberPayload]]:
    """Every customer, mapped to members as they stream in (the consumer's work overlaps the paging)."""
    client = fusion_client(sandbox, framework_version)
    extraction = client.extract_customers()
    started = time.perf_counter()
    members = list(unique_members(extraction))
    seconds = time.perf_counter() - started
    records, pages = extraction.stats.get("records"), extraction.stats.get("pages")
    ideal = pages * ORACLE_REQUEST_S + records * ORACLE_ROW_S
    client.close()
    return {
        "records": records,
        "pages": pages,
        "http_calls": extraction.stats.get("http_calls"),
        "token_fetches": extraction.stats.get("token_fetches"),
        "retries": extraction.stats.get("retries"),
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 4),
        "records_per_second": round(records / seconds, 1),
    }, members


def load(sandbox: RunningMailchimpSandbox, members: list[MemberPayload], concurrency: int) -> dict[str, Any]:
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


def pipelined(
    fusion: RunningFusionSandbox, mailchimp: RunningMailchimpSandbox, framework_version: int, concurrency: int
) -> dict[str, Any]:
    """Extraction feeding the load while pages arrive, as a sync run does."""
    source = fusion_client(fusion, framework_version)
    sink = mailchimp_client(mailchimp, concurrency)
    extraction = source.extract_customers()
    started = time.perf_counter()
    sizes = [len(batch) for batch in sink.upsert_many(mailchimp.config.list_id, unique_members(extraction))]
    seconds = time.perf_counter() - started
    records, pages = extraction.stats.get("records"), extraction.stats.get("pages")
    last_batch = MAILCHIMP_REQUEST_S + min(sizes, default=0) * MAILCHIMP_MEMBER_S
    ideal = pages * ORACLE_REQUEST_S + records * ORACLE_ROW_S + last_batch
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
        extraction, members = extract(fusion, args.framework_version)
        loading = load(mailchimp, members, args.concurrency)
        overlapped = None
        if args.pipelined:
            with start_mailchimp_sandbox(
                MailchimpSandboxConfig(seed=args.seed, latency="realistic")
            ) as fresh:
                overlapped = pipelined(fusion, fresh, args.framework_version, args.concurrency)
    finally:
        fusion.stop()
        mailchimp.stop()
    report: dict[str, Any] = {
        "customers": args.customers,
        "framework_version": args.framework_version,
        "sandbox_start_seconds": round(setup_s, 2),
        "extraction": extraction,
        "load": loading,
    }
    if overlapped is not None:
        report["pipelined"] = overlapped
    report["max_ratio"] = args.max_ratio
    report["ok"] = extraction["ratio"] <= args.max_ratio and loading["ratio"] <= args.max_ratio
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
