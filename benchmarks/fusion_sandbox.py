"""Benchmark: page every customer of a large Fusion sandbox over HTTP, as the connector will.

    python -m benchmarks.fusion_sandbox --customers 1000000 [--mode keyset|offset|both|data] [--fields A,B]

Starts the sandbox in-process on a free port (latency model `none`), takes one token, then pages all
customers at limit 500 ordered by LastUpdateDate, PartyId: `keyset` windows with
`q=LastUpdateDate > X or (LastUpdateDate = X and PartyId > Y)` (framework v2), or plain `offset` paging.
Checks that every customer arrived exactly once, in order, and prints one JSON line per mode.

`data` serves nothing: it generates every customer (records/s) and prints how their EmailAddress looks
to the connector and to Mailchimp: the share that is a valid address no other customer has, and the
share of each kind of mess (`email_profile`).
"""

import argparse
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import requests

from oracle_mailchimp_dagster.sandbox.fusion import (
    FusionSandboxConfig,
    RunningFusionSandbox,
    keys,
    start_fusion_sandbox,
)
from oracle_mailchimp_dagster.sandbox.fusion.generator import CustomerGenerator
from oracle_mailchimp_dagster.sandbox.fusion.schema import ATTRIBUTE_INDEX
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import to_millis
from oracle_mailchimp_dagster.sandbox.mailchimp.config import (
    DEFAULT_FAKE_DOMAINS,
    DEFAULT_FAKE_LOCAL_PARTS,
    DEFAULT_FAKE_TLDS,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import is_valid_email, looks_fake
from oracle_mailchimp_dagster.sync.emails import email_problem, normalize_email

ORDER = "LastUpdateDate:asc,PartyId:asc"


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def fetch_token(session: requests.Session, running: RunningFusionSandbox) -> str:
    config = running.config
    response = session.post(
        running.token_url,
        auth=(config.client_id, config.client_secret.get_secret_value()),
        data={"grant_type": "client_credentials", "scope": config.scope},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def keyset_pages(
    session: requests.Session, url: str, headers: dict[str, str], base: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    mark: tuple[str, int] | None = None
    while True:
        params = dict(base)
        if mark is not None:
            params["q"] = (
                f"LastUpdateDate > '{mark[0]}' or (LastUpdateDate = '{mark[0]}' and PartyId > {mark[1]})"
            )
        response = session.get(
            url, params=params, headers={**headers, "REST-Framework-Version": "2"}, timeout=60
        )
        response.raise_for_status()
        body = orjson.loads(response.content)
        items: list[dict[str, Any]] = body["items"]
        yield items
        if not body["hasMore"] or not items:
            return
        mark = (items[-1]["LastUpdateDate"], items[-1]["PartyId"])


def offset_pages(
    session: requests.Session, url: str, headers: dict[str, str], base: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    offset = 0
    while True:
        response = session.get(url, params={**base, "offset": offset}, headers=headers, timeout=60)
        response.raise_for_status()
        body = orjson.loads(response.content)
        items: list[dict[str, Any]] = body["items"]
        yield items
        if not body["hasMore"] or not items:
            return
        offset += body["count"]


def run(running: RunningFusionSandbox, mode: str, fields: str | None, limit: int) -> dict[str, Any]:
    session = requests.Session()
    token = fetch_token(session, running)
    headers = {"Authorization": f"Bearer {token}"}
    base: dict[str, Any] = {"limit": limit, "orderBy": ORDER, "onlyData": "true"}
    if fields:
        base["fields"] = fields if "PartyId" in fields.split(",") else f"{fields},LastUpdateDate,PartyId"
    pager = keyset_pages if mode == "keyset" else offset_pages
    pages = customers = 0
    previous: tuple[str, int] = ("", 0)
    started, cpu_started = time.perf_counter(), time.process_time()
    for items in pager(session, running.accounts_url, headers, base):
        pages += 1
        customers += len(items)
        for item in items:
            key = (item["LastUpdateDate"], item["PartyId"])
            if key <= previous:
                raise SystemExit(f"benchmark: customers out of order or repeated at {key}")
            previous = key
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if customers != running.sandbox.store.size:
        raise SystemExit(
            f"benchmark: paged {customers} customers, the sandbox holds {running.sandbox.store.size}"
        )
    return {
        "mode": mode,
        "customers": customers,
        "pages": pages,
        "seconds": round(seconds, 2),
        "records_per_second": round(customers / seconds) if seconds else None,
        # Server and client share this process: CPU time is what a busy machine cannot blur.
        "cpu_seconds": round(cpu_seconds, 2),
        "records_per_cpu_second": round(customers / cpu_seconds) if cpu_seconds else None,
    }


MESS = ("missing", "invalid", "non_ascii", "fake", "shared", "mixed_case", "padded")


def email_kind(raw: object) -> str:
    """`missing`, `non_ascii`, `invalid` (the connector's or Mailchimp's syntax), `fake` (Mailchimp's
    deny-list) or `valid`: what a customer's EmailAddress is to the connector and then to Mailchimp."""
    email = normalize_email(raw)
    if email is None:
        return "missing"
    if not email.isascii():
        return "non_ascii"
    if email_problem(email) is not None or not is_valid_email(email):
        return "invalid"
    if looks_fake(email, DEFAULT_FAKE_DOMAINS, DEFAULT_FAKE_TLDS, DEFAULT_FAKE_LOCAL_PARTS):
        return "fake"
    return "valid"


def email_profile(emails: Iterable[object]) -> dict[str, Any]:
    """Shares of customers by email: `unique_valid` is a valid address that no other customer holds
    after the connector's normalisation (trimmed, lower-cased); `shared` a valid one that others hold
    too; `mixed_case` and `padded` count valid addresses that only normalisation makes usable."""
    kinds: Counter[str] = Counter()
    holders: Counter[str] = Counter()
    for raw in emails:
        kind = email_kind(raw)
        kinds[kind] += 1
        if kind != "valid":
            continue
        text = str(raw)
        holders[text.strip().lower()] += 1
        kinds["padded"] += text != text.strip()
        kinds["mixed_case"] += text.strip() != text.strip().lower()
    customers = sum(kinds[k] for k in ("missing", "non_ascii", "invalid", "fake", "valid"))
    unique = sum(1 for n in holders.values() if n == 1)
    kinds["shared"] = kinds["valid"] - unique

    def share(count: int) -> float:
        return round(count / customers, 4) if customers else 0.0

    return {
        "customers": customers,
        "unique_valid": share(unique),
        **{kind: share(kinds[kind]) for kind in MESS},
        "distinct_valid_addresses": len(holders),
    }


def data_figures(customers: int, seed: int) -> dict[str, Any]:
    """Generate every customer of a sandbox of this size (timed), then profile their emails."""
    config = FusionSandboxConfig(customers=customers, seed=seed)
    generator = CustomerGenerator(
        seed, customers, to_millis(config.history_start), to_millis(config.history_end)
    )
    email = ATTRIBUTE_INDEX["EmailAddress"]
    record = generator.record
    started, cpu_started = time.perf_counter(), time.process_time()
    emails = [record(slot)[email] for slot in range(customers)]
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "mode": "data",
        "seed": seed,
        "generate_seconds": round(seconds, 2),
        "records_per_second": round(customers / seconds) if seconds else None,
        "records_per_cpu_second": round(customers / cpu_seconds) if cpu_seconds else None,
        **email_profile(emails),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fusion_sandbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--mode", choices=["keyset", "offset", "both", "data"], default="keyset")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--fields", default=None, help="comma-separated fields (default: every attribute)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 1 <= args.customers <= keys.MAX_SLOTS // 2:
        parser.error(f"--customers must be between 1 and {keys.MAX_SLOTS // 2}")
    if args.mode == "data":
        print(json.dumps(data_figures(args.customers, args.seed)), flush=True)
        return 0
    started = time.perf_counter()
    running = start_fusion_sandbox(FusionSandboxConfig(customers=args.customers, seed=args.seed))
    startup = round(time.perf_counter() - started, 2)
    rss_after_start = _rss_mb()
    try:
        modes = ["keyset", "offset"] if args.mode == "both" else [args.mode]
        for mode in modes:
            result = run(running, mode, args.fields, args.limit)
            result |= {"startup_seconds": startup, "rss_mb_after_start": rss_after_start, "rss_mb": _rss_mb()}
            print(json.dumps(result), flush=True)
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
