"""The hand-written peer: page Oracle, then upsert each customer with the official Mailchimp SDK.

Runs in the peers venv (mailchimp-marketing and requests, nothing of the project), started by
`benchmarks.peers.run --tool sdk`, which passes the sandbox's env file values in the environment:

    .venv-peers/bin/python benchmarks/peers/sdk_loop.py [--no-tags]

What a user writes by hand: a client-credentials token, `offset`/`limit` pages of 500 active customers
(`q=PartyStatus='A'`, one page after the other), then per customer `client.lists.set_list_member`
(PUT, `status_if_new: subscribed`) and, because PUT ignores tags, `update_list_member_tags` for the
type/segment tags. One request at a time; an error is counted and the loop goes on. The SDK's host is
pointed at the sandbox (`api_client.host`), its `server` emptied so it is not substituted into the URL.
Prints one JSON object: rows read, members sent, calls, errors by HTTP status.
"""

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import mailchimp_marketing
import requests
from mailchimp_marketing.api_client import ApiClientError

PAGE = 500
FIELDS = (
    "PartyId,PartyNumber,PartyStatus,OrganizationName,EmailAddress,Type,CustomerClassCode,LastUpdateDate,"
    "PrimaryContactName,FormattedPhoneNumber,AddressLine1,AddressLine2,City,State,Province,PostalCode,Country"
)
KINDS = {"ZCA_CUSTOMER": "customer", "ZCA_PROSPECT": "prospect"}


def oracle_token(env: dict[str, str]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": env["ORACLE_CLIENT_ID"],
        "client_secret": env["ORACLE_CLIENT_SECRET"],
        "scope": env["ORACLE_SCOPE"],
    }
    answer = requests.post(env["ORACLE_TOKEN_URL"], data=form, timeout=60)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def oracle_pages(env: dict[str, str], session: requests.Session) -> Iterator[list[dict[str, Any]]]:
    """Offset pages of the active customers, in PartyId order, until `hasMore` is false."""
    url = env["ORACLE_BASE_URL"].rstrip("/") + env["ORACLE_RESOURCE_PATH"]
    session.headers["Authorization"] = "Bearer " + oracle_token(env)
    offset = 0
    while True:
        params = {
            "onlyData": "true",
            "limit": str(PAGE),
            "offset": str(offset),
            "orderBy": "PartyId",
            "q": "PartyStatus='A'",
            "fields": FIELDS,
        }
        answer = session.get(url, params=params, timeout=120)
        answer.raise_for_status()
        body = answer.json()
        yield list(body["items"])
        if not body.get("hasMore"):
            return
        offset += len(body["items"])


def member_body(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The PUT body and the tags, mapped as the connector maps them (FNAME/LNAME, COMPANY, PHONE, ADDRESS)."""
    names = (row.get("PrimaryContactName") or "").split()
    fields: dict[str, Any] = {"COMPANY": " ".join((row.get("OrganizationName") or "").split())}
    if names:
        fields["FNAME"] = " ".join(names[:-1]) if len(names) > 1 else names[0]
    if len(names) > 1:
        fields["LNAME"] = names[-1]
    if row.get("FormattedPhoneNumber"):
        fields["PHONE"] = row["FormattedPhoneNumber"]
    state = row.get("State") or row.get("Province")
    if row.get("AddressLine1") and row.get("City") and state and row.get("PostalCode"):
        fields["ADDRESS"] = {
            "addr1": row["AddressLine1"],
            "addr2": row.get("AddressLine2") or "",
            "city": row["City"],
            "state": state,
            "zip": row["PostalCode"],
            "country": (row.get("Country") or "")[:2],
        }
    tags = ["type:" + KINDS.get(row.get("Type") or "", "customer")]
    if row.get("CustomerClassCode"):
        tags.append("segment:" + row["CustomerClassCode"])
    email = (row.get("EmailAddress") or "").strip()
    body = {"email_address": email, "status_if_new": "subscribed", "merge_fields": fields}
    return body, tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-tags", action="store_true", help="PUT only: no per-member tags call")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": env["MAILCHIMP_API_KEY"], "server": ""})
    client.api_client.host = env["MAILCHIMP_API_BASE"].rstrip("/")
    list_id = env["MAILCHIMP_LIST_ID"]
    rows = sent = upserted = tagged = 0
    errors: Counter[str] = Counter()
    with requests.Session() as session:
        for page in oracle_pages(env, session):
            rows += len(page)
            for row in page:
                body, tags = member_body(row)
                if not body["email_address"]:
                    continue
                subscriber_hash = hashlib.md5(
                    body["email_address"].lower().encode(), usedforsecurity=False
                ).hexdigest()
                sent += 1
                try:
                    client.lists.set_list_member(list_id, subscriber_hash, body)
                    upserted += 1
                    if not args.no_tags:
                        tag_body = {"tags": [{"name": t, "status": "active"} for t in tags]}
                        client.lists.update_list_member_tags(list_id, subscriber_hash, tag_body)
                        tagged += 1
                except ApiClientError as exc:
                    errors[str(exc.status_code)] += 1
    report = {
        "rows_read": rows,
        "members_sent": sent,
        "upserted": upserted,
        "tagged": tagged,
        "failed": sum(errors.values()),
        "errors_by_status": dict(errors),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
