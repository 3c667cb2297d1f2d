"""The accounts collection and items over real HTTP: q in both syntaxes, orderBy, paging parameters,
projection, finders, links, expand, media types and the Oracle error bodies."""

import itertools
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FUSION_TEST_CUSTOMERS, FusionSandboxFactory, authorized_session

COLLECTION = "application/vnd.oracle.adf.resourcecollection+json"
ERROR_JSON = "application/vnd.oracle.adf.error+json"


def get(
    session: requests.Session, running: RunningFusionSandbox, path: str = "", **params: Any
) -> requests.Response:
    return session.get(running.accounts_url + path, params=params, timeout=10)


def all_customers(running: RunningFusionSandbox) -> list[dict[str, Any]]:
    body = requests.get(running.control_url + "/customers", params={"limit": 100_000}, timeout=10).json()
    return list(body["items"])


def test_default_page_is_25_with_a_full_envelope(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    response = get(fusion_session, fusion_sandbox)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == COLLECTION
    body = response.json()
    assert list(body) == ["items", "count", "hasMore", "limit", "offset", "links"]
    assert (body["count"], body["hasMore"], body["limit"], body["offset"]) == (25, True, 25, 0)
    assert len(body["items"]) == 25
    assert body["links"] == [
        {"rel": "self", "href": fusion_sandbox.accounts_url, "name": "accounts", "kind": "collection"}
    ]
    item = body["items"][0]
    assert [link["rel"] for link in item["links"]] == ["self", "canonical", "child", "child"]
    assert item["links"][0]["href"] == f"{fusion_sandbox.accounts_url}/{item['PartyNumber']}"
    assert "changeIndicator" in item["links"][0]["properties"]


def test_items_emit_nulls_and_fusion_timestamps(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    items = get(fusion_session, fusion_sandbox, limit=200, onlyData="true").json()["items"]
    assert all(len(item) == len(items[0]) for item in items)
    assert any(item["EmailAddress"] is None for item in items)
    for item in items:
        assert item["LastUpdateDate"].endswith("+00:00") and len(item["LastUpdateDate"]) == 29


def test_application_json_accept_gets_plain_json(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    response = fusion_session.get(
        fusion_sandbox.accounts_url, headers={"Accept": "application/json"}, timeout=10
    )
    assert response.headers["Content-Type"] == "application/json"
    refused = fusion_session.get(fusion_sandbox.accounts_url, headers={"Accept": "text/html"}, timeout=10)
    assert refused.status_code == 406
    errors_only = {"Accept": "application/vnd.oracle.adf.error+json"}
    response = fusion_session.get(fusion_sandbox.accounts_url, headers=errors_only, timeout=10)
    assert response.headers["Content-Type"] == COLLECTION


def test_limit_is_capped_at_500_silently(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(customers=1200)
    session = authorized_session(running)
    body = get(session, running, limit=1000).json()
    assert (body["count"], body["limit"], body["hasMore"]) == (500, 500, True)


def test_the_499_quirk_switch(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(customers=1200, limit_cap_quirk_499=True)
    session = authorized_session(running)
    body = get(session, running, limit=500).json()
    assert (body["count"], body["limit"], body["hasMore"]) == (499, 499, True)
    assert get(session, running, limit=100).json()["count"] == 100


@pytest.mark.parametrize(
    ("name", "value"), [("limit", "0"), ("limit", "-5"), ("limit", "ten"), ("offset", "-1"), ("offset", "x")]
)
def test_bad_limit_or_offset_is_a_400(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox, name: str, value: str
) -> None:
    response = get(fusion_session, fusion_sandbox, **{name: value})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith(f"URL request parameter {name} with value {value} is not valid.")


def test_offset_paging_walks_every_customer_once(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        body = get(
            fusion_session, fusion_sandbox, limit=60, offset=offset, orderBy="PartyId", onlyData="true"
        ).json()
        assert body["offset"] == offset
        seen.extend(item["PartyNumber"] for item in body["items"])
        offset += body["count"]
        if not body["hasMore"]:
            break
    assert len(seen) == len(set(seen)) == FUSION_TEST_CUSTOMERS
    past_end = get(fusion_session, fusion_sandbox, offset=5000).json()
    assert (past_end["items"], past_end["count"], past_end["hasMore"], past_end["offset"]) == (
        [],
        0,
        False,
        5000,
    )


def test_total_results_on_request(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    inactive = sum(1 for c in all_customers(fusion_sandbox) if c["PartyStatus"] == "I")
    body = get(fusion_session, fusion_sandbox, q="PartyStatus=I", totalResults="true", limit=3).json()
    assert body["totalResults"] == inactive
    assert body["hasMore"] == (inactive > 3)
    assert "totalResults" not in get(fusion_session, fusion_sandbox).json()


def test_estimate_skew_makes_total_results_an_estimate(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(estimate_skew=0.5)
    session = authorized_session(running)
    reported, true = [], []
    for k in range(10):
        body = get(
            session, running, q=f"PartyId>{300000010000000 + 20 * k}", totalResults="true", limit=500
        ).json()
        reported.append(body["totalResults"])
        true.append(body["count"])
    assert true == [FUSION_TEST_CUSTOMERS - k - 1 for k in range(10)]
    assert reported != true
    assert all(abs(r - t) <= t * 0.5 + 1 for r, t in zip(reported, true, strict=True))


def test_order_by_several_attributes(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    items = get(
        fusion_session, fusion_sandbox, limit=500, orderBy="Country:desc,PartyId:asc", onlyData="true"
    ).json()["items"]
    present = [item for item in items if item["Country"] is not None]
    nulls_first = items[: len(items) - len(present)]
    assert all(item["Country"] is None for item in nulls_first), "desc puts nulls first"
    for before, after in itertools.pairwise(present):
        assert before["Country"] > after["Country"] or (
            before["Country"] == after["Country"] and before["PartyId"] < after["PartyId"]
        )


def test_order_by_last_update_desc(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    items = get(
        fusion_session, fusion_sandbox, limit=500, orderBy="LastUpdateDate:desc,PartyId:desc", onlyData="true"
    ).json()["items"]
    pairs = [(item["LastUpdateDate"], item["PartyId"]) for item in items]
    assert pairs == sorted(pairs, reverse=True)


def test_without_order_by_the_order_is_stable_but_not_party_id(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    first = [
        i["PartyId"] for i in get(fusion_session, fusion_sandbox, limit=100, onlyData="true").json()["items"]
    ]
    again = [
        i["PartyId"] for i in get(fusion_session, fusion_sandbox, limit=100, onlyData="true").json()["items"]
    ]
    assert first == again
    assert first != sorted(first)


def test_shuffle_unordered_switch(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(shuffle_unordered=True)
    session = authorized_session(running)
    pages = {tuple(i["PartyId"] for i in get(session, running, limit=20).json()["items"]) for _ in range(5)}
    assert len(pages) > 1


@pytest.mark.parametrize(
    "order_by",
    ["CreationDate desc", "Nope:asc", "PartyId:up", "partyid", "PartyId,PartyId", "FormattedAddress"],
)
def test_bad_order_by_is_a_400(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox, order_by: str
) -> None:
    response = get(fusion_session, fusion_sandbox, orderBy=order_by)
    assert response.status_code == 400
    assert response.text.startswith(f"URL request parameter orderBy with value {order_by} is not valid.")


def test_v1_query_by_example_filters(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    customers = all_customers(fusion_sandbox)
    stamps = sorted(c["LastUpdateDate"] for c in customers)
    low, high = stamps[20], stamps[120]
    q = f"LastUpdateDate>{low} and <={high};PartyStatus=A"
    body = get(fusion_session, fusion_sandbox, q=q, limit=500, onlyData="true").json()
    expected = {
        c["PartyNumber"] for c in customers if low < c["LastUpdateDate"] <= high and c["PartyStatus"] == "A"
    }
    assert {item["PartyNumber"] for item in body["items"]} == expected
    assert len(expected) > 50
    exact = get(fusion_session, fusion_sandbox, q="PartyNumber='CDRM_100010'").json()["items"]
    assert [item["PartyNumber"] for item in exact] == ["CDRM_100010"]


def test_v1_minute_precision_literal_without_seconds(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    body = get(
        fusion_session,
        fusion_sandbox,
        q="LastUpdateDate>2015-01-01T00:00Z and <=2030-01-02T00:00Z",
        totalResults="true",
    ).json()
    assert body["totalResults"] == FUSION_TEST_CUSTOMERS


def test_v2_rowmatch_filters(fusion_sandbox: RunningFusionSandbox) -> None:
    session = authorized_session(fusion_sandbox, framework_version=2)
    customers = all_customers(fusion_sandbox)
    q = (
        "(Country = 'US' or Country IN ('GB','DE')) and EmailAddress IS NOT NULL"
        " and not PartyStatus = 'I' and OrganizationName LIKE '%a%'"
    )
    body = get(session, fusion_sandbox, q=q, limit=500, onlyData="true").json()
    expected = {
        c["PartyNumber"]
        for c in customers
        if c["Country"] in ("US", "GB", "DE")
        and c["EmailAddress"] is not None
        and c["PartyStatus"] != "I"
        and "a" in c["OrganizationName"]
    }
    assert {item["PartyNumber"] for item in body["items"]} == expected
    assert expected
    between = get(
        session, fusion_sandbox, q="PartyId BETWEEN 300000010000020 AND 300000010000060", orderBy="PartyId"
    ).json()
    assert [item["PartyNumber"] for item in between["items"]] == ["CDRM_100002", "CDRM_100004", "CDRM_100006"]


def test_v2_timestamps_compare_at_millisecond_precision_with_offsets(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    session = authorized_session(fusion_sandbox, framework_version=2)
    stamp = all_customers(fusion_sandbox)[0]["LastUpdateDate"]
    equal = get(session, fusion_sandbox, q=f"LastUpdateDate = '{stamp}'", limit=500).json()["items"]
    assert equal and all(item["LastUpdateDate"] == stamp for item in equal)
    shifted = stamp[:11] + f"{(int(stamp[11:13]) + 2) % 24:02d}" + stamp[13:23] + "+02:00"
    if int(stamp[11:13]) < 22:
        assert (
            get(session, fusion_sandbox, q=f"LastUpdateDate = '{shifted}'", limit=500).json()["items"]
            == equal
        )


@pytest.mark.parametrize(
    ("version", "q"),
    [
        (1, "PartyStatus = 'A' and Type = 'ZCA_CUSTOMER'"),
        (1, 'CreationDate > "2024-01-01T00:00:00Z"'),
        (1, "OrganizationName LIKE 'A%'"),
        (2, "LastUpdateDate>2024-01-01T00:00Z and <=2024-01-02T00:00Z"),
        (2, "PartyStatus=A"),
        (1, "Nope=1"),
        (2, "LastUpdateDate > 'not a date'"),
    ],
)
def test_wrong_syntax_for_the_framework_version_is_a_400(
    fusion_sandbox: RunningFusionSandbox, version: int, q: str
) -> None:
    session = authorized_session(fusion_sandbox, framework_version=version)
    response = get(session, fusion_sandbox, q=q)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith(f"URL request parameter q with value {q} is not valid.")


def test_error_json_when_accept_asks_for_it(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    response = fusion_session.get(
        fusion_sandbox.accounts_url,
        params={"q": "Nope=1"},
        headers={"Accept": "application/json, application/vnd.oracle.adf.error+json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == ERROR_JSON
    body = response.json()
    assert body["title"] == "Bad Request" and body["status"] == "400"
    [detail] = body["o:errorDetails"]
    assert detail["detail"].startswith("URL request parameter q with value Nope=1 is not valid.")
    assert detail["o:errorCode"] == "27501" and detail["o:errorPath"] == ""


def test_error_json_from_framework_version_4(fusion_sandbox: RunningFusionSandbox) -> None:
    session = authorized_session(fusion_sandbox, framework_version=4)
    response = get(session, fusion_sandbox, fields="Nope")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == ERROR_JSON
    assert response.headers["REST-Framework-Version"] == "4"


def test_unsupported_framework_version_is_a_400(fusion_sandbox: RunningFusionSandbox) -> None:
    assert get(authorized_session(fusion_sandbox, framework_version=42), fusion_sandbox).status_code == 400


def test_only_data_drops_item_links_but_keeps_collection_links(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    body = get(fusion_session, fusion_sandbox, onlyData="true").json()
    assert all("links" not in item for item in body["items"])
    assert body["links"][0]["rel"] == "self"


def test_fields_projects_items(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    items = get(
        fusion_session, fusion_sandbox, fields="PartyNumber,EmailAddress,LastUpdateDate", onlyData="true"
    ).json()["items"]
    assert all(list(item) == ["PartyNumber", "EmailAddress", "LastUpdateDate"] for item in items)
    assert items[0]["LastUpdateDate"].endswith("+00:00")
    links_only = get(fusion_session, fusion_sandbox, fields="").json()["items"]
    assert all(list(item) == ["links"] for item in links_only)
    bad = get(fusion_session, fusion_sandbox, fields="PartyNumber,Email")
    assert bad.status_code == 400
    assert bad.text.startswith("URL request parameter fields with value PartyNumber,Email is not valid.")


def test_finders(fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox) -> None:
    for finder in (
        "PrimaryKey;PartyNumber=CDRM_100020",
        "AccountPartyNumberRF;PartyNumber=CDRM_100020",
        "PartyIdAltKey;PartyId=300000010000100",
    ):
        items = get(fusion_session, fusion_sandbox, finder=finder).json()["items"]
        assert [item["PartyNumber"] for item in items] == [
            "CDRM_100020" if "Number" in finder else "CDRM_100010"
        ], finder
    for bad in (
        "NoSuchFinder;PartyNumber=CDRM_1",
        "PrimaryKey;Nope=1",
        "PrimaryKey",
        "PartyIdAltKey;PartyId=abc",
    ):
        response = get(fusion_session, fusion_sandbox, finder=bad)
        assert response.status_code == 400, bad
        assert response.text.startswith(f"URL request parameter finder with value {bad} is not valid.")


def test_links_parameter_filters_relations(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    body = get(fusion_session, fusion_sandbox, links="canonical", limit=2).json()
    assert all([link["rel"] for link in item["links"]] == ["canonical"] for item in body["items"])
    assert body["links"] == []


def test_expand_children_as_arrays_below_v3_and_collections_from_v3(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    v1_items = get(
        authorized_session(fusion_sandbox), fusion_sandbox, expand="PrimaryAddress", limit=50
    ).json()["items"]
    with_address = [item for item in v1_items if item["AddressNumber"]]
    assert with_address and isinstance(with_address[0]["PrimaryAddress"], list)
    assert with_address[0]["PrimaryAddress"][0]["City"] == with_address[0]["City"]
    v3 = get(
        authorized_session(fusion_sandbox, framework_version=3), fusion_sandbox, expand="all", limit=5
    ).json()["items"][0]
    assert set(v3["ContactPoint"]) == {"items", "count", "hasMore", "limit", "offset", "links"}
    fields_win = get(
        authorized_session(fusion_sandbox), fusion_sandbox, expand="all", fields="PartyNumber"
    ).json()["items"][0]
    assert "PrimaryAddress" not in fields_win
    assert get(authorized_session(fusion_sandbox), fusion_sandbox, expand="Nope").status_code == 400


def test_single_item_child_and_describe(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    item = get(fusion_session, fusion_sandbox, "/CDRM_100004")
    assert item.status_code == 200
    assert item.headers["Content-Type"] == "application/vnd.oracle.adf.resourceitem+json"
    assert item.json()["PartyId"] == 300000010000040
    latest = fusion_session.get(
        fusion_sandbox.url + "/crmRestApi/resources/latest/accounts/CDRM_100004", timeout=10
    )
    assert latest.json()["PartyNumber"] == "CDRM_100004"
    assert get(fusion_session, fusion_sandbox, "/CDRM_999999").status_code == 404
    assert get(fusion_session, fusion_sandbox, "/CDRM_100001").status_code == 404, (
        "a contact's number is no account"
    )
    child = get(fusion_session, fusion_sandbox, "/CDRM_100004/child/ContactPoint").json()
    assert child["count"] == len(child["items"])
    described = get(fusion_session, fusion_sandbox, "/describe").json()
    names = {a["name"] for a in described["Resources"]["accounts"]["attributes"]}
    assert {"PartyNumber", "EmailAddress", "LastUpdateDate", "PartyStatus"} <= names


def test_unknown_paths_and_methods(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    assert (
        fusion_session.get(
            fusion_sandbox.url + "/fscmRestApi/resources/11.13.18.05/nope", timeout=10
        ).status_code
        == 404
    )
    assert (
        fusion_session.get(fusion_sandbox.url + "/crmRestApi/resources/10.0/accounts", timeout=10).status_code
        == 404
    )
    assert fusion_session.post(fusion_sandbox.accounts_url, json={}, timeout=10).status_code == 405
    versions = fusion_session.get(fusion_sandbox.url + "/crmRestApi/resources/", timeout=10).json()
    assert versions["items"][0]["version"] == "11.13.18.05"


def test_inactive_customers_hidden_by_default_switch(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(include_inactive_by_default=False)
    session = authorized_session(running)
    default = get(session, running, limit=500, onlyData="true").json()["items"]
    assert default and all(item["PartyStatus"] == "A" for item in default)
    inactive = get(session, running, q="PartyStatus=I", limit=500).json()["items"]
    assert inactive and all(item["PartyStatus"] == "I" for item in inactive)
    assert len(default) + len(inactive) == FUSION_TEST_CUSTOMERS
