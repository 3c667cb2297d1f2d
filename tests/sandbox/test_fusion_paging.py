"""Paging the way connectors do, over real HTTP: keyset windows and offsets, through ties on
LastUpdateDate, records changing between page requests, and late (back-dated) commits."""

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory, authorized_session

ORDER = "LastUpdateDate:asc,PartyId:asc"


def keyset_scan(
    session: requests.Session, running: RunningFusionSandbox, limit: int, since: str | None = None
) -> list[list[dict[str, Any]]]:
    """Framework v2 keyset paging: each page starts strictly after the last (LastUpdateDate, PartyId)."""
    pages: list[list[dict[str, Any]]] = []
    mark: tuple[str, int] | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, "orderBy": ORDER, "onlyData": "true"}
        if mark is not None:
            params["q"] = (
                f"LastUpdateDate > '{mark[0]}' or (LastUpdateDate = '{mark[0]}' and PartyId > {mark[1]})"
            )
        elif since is not None:
            params["q"] = f"LastUpdateDate > '{since}'"
        body = session.get(
            running.accounts_url, params=params, headers={"REST-Framework-Version": "2"}, timeout=10
        ).json()
        pages.append(body["items"])
        if not body["hasMore"]:
            return pages
        mark = (body["items"][-1]["LastUpdateDate"], body["items"][-1]["PartyId"])


def offset_scan(
    session: requests.Session, running: RunningFusionSandbox, limit: int, q: str | None = None
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    offset = 0
    while True:
        params: dict[str, Any] = {"limit": limit, "offset": offset, "orderBy": ORDER, "onlyData": "true"}
        if q is not None:
            params["q"] = q
        body = session.get(running.accounts_url, params=params, timeout=10).json()
        pages.append(body["items"])
        offset += body["count"]
        if not body["hasMore"]:
            return pages


def _shifted(stamp: str, seconds: int) -> str:
    moment = datetime.fromisoformat(stamp) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds")


def numbers(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [item["PartyNumber"] for page in pages for item in page]


@pytest.fixture
def tied_sandbox(fusion_sandbox_factory: FusionSandboxFactory) -> RunningFusionSandbox:
    """3,000 customers, 2,000 of them sharing one LastUpdateDate (a mass update at a frozen instant)."""
    running = fusion_sandbox_factory(customers=3000, clock_frozen=True)
    touched = requests.post(
        running.control_url + "/customers/touch", json={"oldest": 2000}, timeout=30
    ).json()
    assert touched["touched"] == 2000
    return running


def test_keyset_paging_crosses_2000_ties_without_loss_or_repeat(tied_sandbox: RunningFusionSandbox) -> None:
    pages = keyset_scan(authorized_session(tied_sandbox), tied_sandbox, limit=500)
    seen = numbers(pages)
    assert len(seen) == len(set(seen)) == 3000
    keys = [(item["LastUpdateDate"], item["PartyId"]) for page in pages for item in page]
    assert keys == sorted(keys)
    boundaries_inside_the_tie = sum(
        1
        for before, after in itertools.pairwise(pages)
        if before[-1]["LastUpdateDate"] == after[0]["LastUpdateDate"]
    )
    assert boundaries_inside_the_tie >= 3


def test_offset_paging_through_ties_in_a_v1_window(tied_sandbox: RunningFusionSandbox) -> None:
    window = "LastUpdateDate>2014-01-01T00:00Z and <=2099-01-01T00:00Z"
    seen = numbers(offset_scan(authorized_session(tied_sandbox), tied_sandbox, limit=499, q=window))
    assert len(seen) == len(set(seen)) == 3000


def test_offset_paging_drifts_when_rows_change_between_pages(fusion_sandbox: RunningFusionSandbox) -> None:
    session = authorized_session(fusion_sandbox)
    before = numbers(offset_scan(session, fusion_sandbox, limit=50))
    rule = {"before_request": 2, "mutations": [{"op": "touch", "oldest": 10}]}
    requests.post(fusion_sandbox.control_url + "/change-rules", json=rule, timeout=10).raise_for_status()
    during = numbers(offset_scan(session, fusion_sandbox, limit=50))
    skipped = set(before) - set(during)
    assert skipped == set(before[50:60]), "the rows slid under page 2's offset are never seen"
    assert sorted(n for n in set(during) if during.count(n) > 1) == sorted(before[:10]), (
        "touched rows come twice"
    )
    rules = requests.get(fusion_sandbox.control_url + "/change-rules", timeout=10).json()["rules"]
    assert rules[0]["fired"] == 1 and rules[0]["seen"] >= 4


def test_keyset_paging_sees_every_row_when_rows_change_between_pages(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    session = authorized_session(fusion_sandbox)
    before = numbers(keyset_scan(session, fusion_sandbox, limit=50))
    rule = {"before_request": 2, "mutations": [{"op": "touch", "oldest": 10}]}
    requests.post(fusion_sandbox.control_url + "/change-rules", json=rule, timeout=10).raise_for_status()
    during = numbers(keyset_scan(session, fusion_sandbox, limit=50))
    assert set(during) == set(before), "nothing skipped"
    assert sorted(n for n in set(during) if during.count(n) > 1) == sorted(before[:10])
    assert requests.get(fusion_sandbox.control_url + "/stats", timeout=10).json()["change_rules_fired"] == 1


def test_a_late_commit_hides_behind_the_watermark_unless_the_window_overlaps(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    session = authorized_session(fusion_sandbox)
    pages = keyset_scan(session, fusion_sandbox, limit=100)
    watermark = pages[-1][-1]["LastUpdateDate"]
    late = _shifted(watermark, seconds=-60)
    patched = requests.patch(
        fusion_sandbox.control_url + "/customers/CDRM_100200",
        json={"EmailAddress": "late@commit.example", "LastUpdateDate": late},
        timeout=10,
    )
    assert patched.status_code == 200 and patched.json()["LastUpdateDate"] == late
    assert numbers(keyset_scan(session, fusion_sandbox, limit=100, since=watermark)) == []
    overlap = _shifted(watermark, seconds=-300)
    assert "CDRM_100200" in numbers(keyset_scan(session, fusion_sandbox, limit=100, since=overlap))
