"""The emulator over real HTTP, spoken to with plain httpx: the wire shapes Salesforce documents."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from connectors.salesforce.emulator import Emulator, make_app

API = "/services/data/v62.0"


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url) as raw:
        yield raw


@pytest.fixture
def api(http: httpx.Client) -> httpx.Client:
    token = http.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": "concord-demo",
                                                      "client_secret": "concord-demo-secret"}).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def test_client_credentials_token(http: httpx.Client, base_url: str, emulator: Emulator) -> None:
    response = http.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "concord-demo", "client_secret": "concord-demo-secret"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "scope", "issued_at"}
    assert (body["token_type"], body["scope"], body["instance_url"]) == ("Bearer", "api", base_url)
    assert body["access_token"].startswith("00D5g000004Ft9W!AQ")
    assert emulator.requests[-1].body["client_secret"] == "***"  # the log never keeps secrets


def test_bad_secret_and_unknown_grant(http: httpx.Client) -> None:
    bad = http.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "concord-demo", "client_secret": "nope"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant",
                                                   "error_description": "authentication failure"})
    odd = http.post("/services/oauth2/token", data={"grant_type": "password"})
    assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")


def test_jwt_bearer(http: httpx.Client, clock) -> None:
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    exp = int(clock().timestamp()) + 180
    good = http.post("/services/oauth2/token", data={"grant_type": grant, "assertion": _jwt(
        {"iss": "concord-demo", "sub": "integration@concord.example", "aud": "https://login.salesforce.com",
         "exp": exp})})
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer"
    other = http.post("/services/oauth2/token", data={"grant_type": grant, "assertion": _jwt({"iss": "someone"})})
    assert (other.status_code, other.json()["error"]) == (400, "invalid_grant")
    expired = http.post("/services/oauth2/token", data={"grant_type": grant, "assertion": _jwt(
        {"iss": "concord-demo", "exp": exp - 3600})})
    assert expired.status_code == 400
    garbled = http.post("/services/oauth2/token", data={"grant_type": grant, "assertion": "not-a-jwt"})
    assert garbled.status_code == 400


def test_unknown_token_is_invalid_session(http: httpx.Client) -> None:
    response = http.get(f"{API}/limits", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_versions_and_limits(api: httpx.Client) -> None:
    versions = api.get("/services/data/").json()
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    limits = api.get(f"{API}/limits")
    assert limits.json()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99999}
    assert limits.headers["Sforce-Limit-Info"] == "api-usage=1/100000"


def test_query_paging_with_batch_size(serve_wsgi, credentials) -> None:
    emulator = make_app(clients=120)
    with httpx.Client(base_url=serve_wsgi(emulator)) as http:
        token = http.post("/services/oauth2/token", data={"grant_type": "client_credentials",
                                                          "client_id": "concord-demo",
                                                          "client_secret": "concord-demo-secret"}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        total = len(emulator.store["Contract"])
        assert total > 400
        page = http.get(f"{API}/query", params={"q": "SELECT Id, SystemModstamp FROM Contract ORDER BY Id"},
                        headers={"Sforce-Query-Options": "batchSize=200"}).json()
        ids = [r["Id"] for r in page["records"]]
        assert (page["totalSize"], page["done"], len(page["records"])) == (total, False, 200)
        assert page["records"][0]["attributes"] == {"type": "Contract",
                                                    "url": f"{API}/sobjects/Contract/{ids[0]}"}
        assert page["nextRecordsUrl"].startswith(f"{API}/query/01g") and page["nextRecordsUrl"].endswith("-200")
        pages = 1
        while not page["done"]:
            page = http.get(page["nextRecordsUrl"]).json()
            ids += [r["Id"] for r in page["records"]]
            pages += 1
        assert pages == -(-total // 200)
        assert ids == sorted(emulator.store["Contract"])
        assert "nextRecordsUrl" not in page
        bad = http.get(f"{API}/query/01gNOPE-200")
        assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "INVALID_QUERY_LOCATOR")


def test_query_filters_order_and_limit(api: httpx.Client, emulator: Emulator) -> None:
    stamps = sorted(r["SystemModstamp"] for r in emulator.store["Account"].values())
    pivot = stamps[39].replace(".000+0000", "Z")
    q = (f"SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp > {pivot} AND Type = 'Customer' "  # noqa: S608
         "ORDER BY SystemModstamp DESC, Id LIMIT 5")
    body = api.get(f"{API}/query", params={"q": q}).json()
    assert body["totalSize"] == 5 and body["done"] is True
    assert [r["SystemModstamp"] for r in body["records"]] == stamps[-1:-6:-1]
    assert set(body["records"][0]) == {"attributes", "Id", "Name", "SystemModstamp"}


@pytest.mark.parametrize(("q", "code"), [
    ("SELEKT Id FROM Account", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE Name LIKE 'A%'", "MALFORMED_QUERY"),
    ("SELECT FIELDS(ALL) FROM Account", "MALFORMED_QUERY"),
    ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
    ("SELECT Id, Colour__c FROM Account", "INVALID_FIELD"),
])
def test_query_errors(api: httpx.Client, q: str, code: str) -> None:
    response = api.get(f"{API}/query", params={"q": q})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code and response.json()[0]["message"]


def test_fields_all_with_limit_and_query_all(api: httpx.Client, emulator: Emulator) -> None:
    one = api.get(f"{API}/query", params={"q": "SELECT FIELDS(ALL) FROM Account LIMIT 1"}).json()["records"][0]
    assert {"Name", "Hub_Id__c", "IsDeleted", "LastModifiedDate", "BillingCountryCode"} <= set(one)
    victim = sorted(emulator.store["Account"])[0]
    emulator.delete("Account", victim)
    q = {"q": f"SELECT Id, IsDeleted FROM Account WHERE Id = '{victim}'"}  # noqa: S608 (test SOQL)
    assert api.get(f"{API}/query", params=q).json()["totalSize"] == 0
    assert api.get(f"{API}/queryAll", params=q).json()["records"][0]["IsDeleted"] is True
    assert api.get(f"{API}/sobjects/Account/{victim}").status_code == 404


def test_replication_resources(api: httpx.Client, emulator: Emulator, clock) -> None:
    start = clock().strftime("%Y-%m-%dT%H:%M:%S+00:00")
    account = sorted(emulator.store["Account"])[3]
    emulator.touch("Account", account, Industry="Retail")
    emulator.delete("Account", sorted(emulator.store["Account"])[4])
    params = {"start": start, "end": clock.advance(30).strftime("%Y-%m-%dT%H:%M:%SZ")}
    # Seconds are ignored: the current minute is not covered yet.
    assert api.get(f"{API}/sobjects/Account/updated/", params=params).json() == {
        "ids": [], "latestDateCovered": "2026-11-20T09:00:00.000+0000"}
    params["end"] = clock.advance(60).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get(f"{API}/sobjects/Account/updated/", params=params).json() == {
        "ids": [account], "latestDateCovered": "2026-11-20T09:01:00.000+0000"}
    assert api.get(f"{API}/sobjects/Account/deleted/", params=params).json() == {
        "deletedRecords": [{"id": sorted(emulator.store["Account"])[4], "deletedDate": "2026-11-20T09:00:00.000+0000"}],
        "earliestDateAvailable": "2026-11-05T09:01:00.000+0000", "latestDateCovered": "2026-11-20T09:01:00.000+0000"}
    too_old = api.get(f"{API}/sobjects/Account/deleted/", params={**params, "start": "2026-09-01T00:00:00Z"})
    assert (too_old.status_code, too_old.json()[0]["errorCode"]) == (400, "INVALID_REPLICATION_DATE")


def test_upsert_by_external_id(api: httpx.Client, emulator: Emulator, clock) -> None:
    url = f"{API}/sobjects/Account/Hub_Id__c/HUB-000123"
    created = api.patch(url, json={"Name": "Acme", "Industry": "Consulting"})
    assert created.status_code == 201
    record_id = created.json()["id"]
    assert created.json() == {"id": record_id, "success": True, "errors": [], "created": True}
    assert len(record_id) == 18 and record_id.startswith("001")
    clock.advance(5)
    updated = api.patch(url, json={"Industry": "Advisory"})
    assert (updated.status_code, updated.json()) == (200, {"id": record_id, "success": True, "errors": [],
                                                           "created": False})
    record = api.get(f"{API}/sobjects/Account/{record_id}").json()
    assert (record["Name"], record["Industry"], record["Hub_Id__c"]) == ("Acme", "Advisory", "HUB-000123")
    assert record["SystemModstamp"] == "2026-11-20T09:00:05.000+0000"
    assert len(emulator.store["Account"]) == 51


@pytest.mark.parametrize(("url", "body", "status", "code"), [
    (f"{API}/sobjects/Account/Hub_Id__c/HUB-1", {"Industry": "x"}, 400, "REQUIRED_FIELD_MISSING"),
    (f"{API}/sobjects/Account/Hub_Id__c/HUB-1", {"Name": "A", "Colour__c": "red"}, 400, "INVALID_FIELD"),
    (f"{API}/sobjects/Account/Hub_Id__c/HUB-1", {"Name": "A", "IsDeleted": True}, 400,
     "INVALID_FIELD_FOR_INSERT_UPDATE"),
    (f"{API}/sobjects/Account/Name/Acme", {"Industry": "x"}, 404, "NOT_FOUND"),
    (f"{API}/sobjects/Account/Hub_Id__c/HUB-1", ["not", "an", "object"], 400, "JSON_PARSER_ERROR"),
])
def test_upsert_errors(api: httpx.Client, url: str, body, status: int, code: str) -> None:
    response = api.patch(url, json=body)
    assert response.status_code == status
    assert response.json()[0]["errorCode"] == code


def _records(n: int, start: int = 1) -> list[dict]:
    return [{"attributes": {"type": "Account"}, "Hub_Id__c": f"HUB-{i}", "Name": f"Client {i}"}
            for i in range(start, start + n)]


def test_composite_upsert_and_partial_batch(api: httpx.Client, emulator: Emulator) -> None:
    url = f"{API}/composite/sobjects/Account/Hub_Id__c"
    first = api.patch(url, json={"allOrNone": False, "records": _records(3)}).json()
    assert [(r["success"], r["created"]) for r in first] == [(True, True)] * 3
    emulator.faults.inject("partial_batch")
    second = api.patch(url, json={"allOrNone": False, "records": _records(4)}).json()
    assert [r["success"] for r in second] == [True, False, True, False]
    assert second[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    assert second[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert second[3] == {"id": None, "success": False, "errors": [{
        "statusCode": "DUPLICATE_VALUE", "fields": ["Hub_Id__c"],
        "message": "duplicate value found: Hub_Id__c duplicates value on record with id: HUB-4"}]}
    assert len(emulator.store["Account"]) == 50 + 3  # HUB-4 was refused: never created


def test_composite_all_or_none_rolls_back(api: httpx.Client, emulator: Emulator) -> None:
    records = [*_records(2), {"attributes": {"type": "Account"}, "Hub_Id__c": "HUB-9"}]  # no Name: refused
    results = api.patch(f"{API}/composite/sobjects/Account/Hub_Id__c",
                        json={"allOrNone": True, "records": records}).json()
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING"]
    assert len(emulator.store["Account"]) == 50


def test_composite_limits(api: httpx.Client) -> None:
    url = f"{API}/composite/sobjects/Account/Hub_Id__c"
    too_many = api.patch(url, json={"allOrNone": False, "records": _records(201)})
    assert (too_many.status_code, too_many.json()[0]["errorCode"]) == (400, "EXCEEDED_ID_LIMIT")
    untyped = api.patch(url, json={"records": [{"Hub_Id__c": "HUB-1", "Name": "A"}]})
    assert (untyped.status_code, untyped.json()[0]["errorCode"]) == (400, "INVALID_TYPE")


def test_usage_limit_and_faults(serve_wsgi) -> None:
    emulator = make_app(api_usage_limit=3)
    with httpx.Client(base_url=serve_wsgi(emulator)) as http:
        token = http.post("/services/oauth2/token", data={"grant_type": "client_credentials",
                                                          "client_id": "concord-demo",
                                                          "client_secret": "concord-demo-secret"}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        emulator.faults.inject("unavailable")
        down = http.get(f"{API}/limits")
        assert (down.status_code, down.json()[0]["errorCode"]) == (503, "SERVER_UNAVAILABLE")
        emulator.faults.inject("malformed")
        garbled = http.get(f"{API}/limits")
        assert garbled.status_code == 200
        with pytest.raises(ValueError):
            garbled.json()
        assert http.get(f"{API}/limits").headers["Sforce-Limit-Info"] == "api-usage=3/3"
        over = http.get(f"{API}/limits")
        assert over.status_code == 403 and over.headers["Sforce-Limit-Info"] == "api-usage=4/3"
        assert over.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        assert http.get("/services/data/").status_code == 200  # the version list does not count
    assert [r.path for r in emulator.requests].count(f"{API}/limits") == 4
    with pytest.raises(ValueError):
        emulator.faults.inject("meteor")


def test_update_by_id(api: httpx.Client, emulator: Emulator, clock) -> None:
    first, second = sorted(emulator.store["Account"])[:2]
    clock.advance(5)
    updated = api.patch(f"{API}/sobjects/Account/{first}", json={"Industry": "Advisory", "Hub_Id__c": "HUB-7"})
    assert (updated.status_code, updated.content) == (204, b"")
    record = api.get(f"{API}/sobjects/Account/{first}").json()
    assert (record["Industry"], record["Hub_Id__c"]) == ("Advisory", "HUB-7")
    assert record["SystemModstamp"] == "2026-11-20T09:00:05.000+0000"
    short = api.patch(f"{API}/sobjects/Account/{first[:15]}", json={"Industry": "Legal"})  # the 15-character Id
    assert short.status_code == 204 and emulator.store["Account"][first]["Industry"] == "Legal"
    taken = api.patch(f"{API}/sobjects/Account/{second}", json={"Hub_Id__c": "HUB-7"})
    assert (taken.status_code, taken.json()) == (400, [{
        "message": f"duplicate value found: Hub_Id__c duplicates value on record with id: {first}",
        "errorCode": "DUPLICATE_VALUE", "fields": ["Hub_Id__c"]}])
    missing = api.patch(f"{API}/sobjects/Account/001000000000000AAA", json={"Industry": "x"})
    assert (missing.status_code, missing.json()) == (404, [{"message": "The requested resource does not exist",
                                                            "errorCode": "NOT_FOUND"}])
    emulator.delete("Account", second)
    gone = api.patch(f"{API}/sobjects/Account/{second}", json={"Industry": "x"})
    assert (gone.status_code, gone.json()) == (404, [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED",
                                                      "fields": []}])
    locked = api.patch(f"{API}/sobjects/Account/{first}", json={"SystemModstamp": "2020-01-01T00:00:00Z"})
    assert (locked.status_code, locked.json()[0]["errorCode"]) == (400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    wrong = api.delete(f"{API}/sobjects/Account/{first}")
    assert (wrong.status_code, wrong.json()[0]["errorCode"]) == (405, "METHOD_NOT_ALLOWED")
    assert len(emulator.store["Account"]) == 50


def test_composite_update_per_record_results(api: httpx.Client, emulator: Emulator) -> None:
    ids = sorted(emulator.store["Account"])[:3]
    emulator.delete("Account", ids[2])
    records = [{"attributes": {"type": "Account"}, "id": ids[0], "Industry": "Advisory"},
               {"attributes": {"type": "Account"}, "id": ids[1], "Hub_Id__c": "HUB-2"},
               {"attributes": {"type": "Account"}, "id": ids[2], "Industry": "Advisory"},
               {"attributes": {"type": "Account"}, "id": "001000000000000AAA", "Industry": "Advisory"},
               {"attributes": {"type": "Account"}, "id": "not-an-id", "Industry": "Advisory"},
               {"attributes": {"type": "Account"}, "Industry": "Advisory"}]
    response = api.patch(f"{API}/composite/sobjects", json={"allOrNone": False, "records": records})
    assert response.status_code == 200
    results = response.json()
    assert results[:2] == [{"id": ids[0], "success": True, "errors": []}, {"id": ids[1], "success": True, "errors": []}]
    assert [r["errors"][0]["statusCode"] for r in results[2:]] == [
        "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID", "MISSING_ARGUMENT"]
    assert all(r["success"] is False and r["id"] is None for r in results[2:])
    assert emulator.store["Account"][ids[0]]["Industry"] == "Advisory"
    assert emulator.store["Account"][ids[1]]["Hub_Id__c"] == "HUB-2"
    assert len(emulator.store["Account"]) == 50


def test_composite_update_all_or_none_and_limits(api: httpx.Client, emulator: Emulator) -> None:
    ids = sorted(emulator.store["Account"])[:2]
    before = emulator.store["Account"][ids[0]]["Industry"]
    results = api.patch(f"{API}/composite/sobjects", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "id": ids[0], "Industry": "Advisory"},
        {"attributes": {"type": "Account"}, "id": ids[1], "Colour__c": "red"}]}).json()
    assert [r["errors"][0]["statusCode"] for r in results] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK", "INVALID_FIELD"]
    assert emulator.store["Account"][ids[0]]["Industry"] == before
    too_many = api.patch(f"{API}/composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "id": ids[0]}] * 201})
    assert (too_many.status_code, too_many.json()[0]["errorCode"]) == (400, "EXCEEDED_ID_LIMIT")
    untyped = api.patch(f"{API}/composite/sobjects", json={"records": [{"id": ids[0], "Industry": "x"}]})
    assert (untyped.status_code, untyped.json()[0]["errorCode"]) == (400, "INVALID_TYPE")
