"""What keeps the emulator right and bounded at scale: query cursors expire as Salesforce's do, deep pages are
served by locator, and upserts by external id go through an index that follows every change to the records."""

from __future__ import annotations

import httpx
import pytest

from connectors.salesforce.emulator import Emulator

from .conftest import FakeClock

API = "/services/data/v62.0"
QUERY = "SELECT Id, StageName FROM OpportunityHistory ORDER BY Id"  # 333 rows: two batches of 200
INVALID_LOCATOR = [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


@pytest.fixture
def api(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url)
    token = client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "concord-demo",
        "client_secret": "concord-demo-secret"}).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    yield client
    client.close()


def _first(api: httpx.Client, q: str = QUERY) -> dict:
    return api.get(f"{API}/query", params={"q": q}, headers={"Sforce-Query-Options": "batchSize=200"}).json()


def test_a_query_locator_lives_two_days_from_its_query(api: httpx.Client, clock: FakeClock) -> None:
    first = _first(api)
    clock.advance(2 * 86400 - 60)
    second = api.get(first["nextRecordsUrl"])
    assert second.status_code == 200 and second.json()["done"] is True

    clock.advance(60)  # two days after the query ran, however recently it was read
    expired = api.get(first["nextRecordsUrl"])
    assert (expired.status_code, expired.json()) == (400, INVALID_LOCATOR)


def test_many_open_locators_all_answer(api: httpx.Client, clock: FakeClock) -> None:
    # Since API v56.0 Salesforce sets no limit on open cursors (before, the 11th released the oldest).
    locators = [_first(api)["nextRecordsUrl"] for _ in range(12)]
    clock.advance(3600)
    assert all(api.get(locator).status_code == 200 for locator in locators)


def test_a_deep_page_is_served_by_its_locator(api: httpx.Client, emulator: Emulator) -> None:
    rows = emulator.store["OpportunityHistory"]
    ids = sorted(rows)
    locator = _first(api)["nextRecordsUrl"].rpartition("-")[0]
    deep = api.get(f"{locator}-{len(ids) - 50}").json()
    assert (deep["done"], deep["totalSize"]) == (True, len(ids))
    assert [r["Id"] for r in deep["records"]] == ids[-50:]
    assert deep["records"][0] == {"attributes": {"type": "OpportunityHistory",
                                                 "url": f"{API}/sobjects/OpportunityHistory/{ids[-50]}"},
                                  "Id": ids[-50], "StageName": rows[ids[-50]]["StageName"]}
    assert api.get(f"{locator}-{len(ids) + 1}").json() == INVALID_LOCATOR


def test_a_query_answered_in_one_batch_has_no_locator(api: httpx.Client) -> None:
    page = _first(api, "SELECT Id FROM Account LIMIT 5")
    assert page["done"] is True and "nextRecordsUrl" not in page and len(page["records"]) == 5


def _upsert(api: httpx.Client, hub_id: str, name: str) -> httpx.Response:
    return api.patch(f"{API}/sobjects/Account/Hub_Id__c/{hub_id}", json={"Name": name})


def test_upserts_by_external_id_follow_records_changed_outside_the_api(api: httpx.Client,
                                                                       emulator: Emulator) -> None:
    accounts = emulator.store["Account"]
    template = next(iter(accounts.values()))
    record_id = emulator.org.new_id("Account")
    accounts[record_id] = {**template, "Id": record_id, "Hub_Id__c": "HUB-DIRECT"}  # a record a script put there

    updated = _upsert(api, "HUB-DIRECT", "Found")
    assert (updated.status_code, updated.json()["id"]) == (200, record_id) and accounts[record_id]["Name"] == "Found"

    emulator.touch("Account", record_id, Hub_Id__c="HUB-MOVED")
    created = _upsert(api, "HUB-DIRECT", "Created")
    assert created.status_code == 201 and created.json()["id"] != record_id
    assert _upsert(api, "HUB-MOVED", "Moved").json()["id"] == record_id

    emulator.delete("Account", record_id)  # the recycle bin holds it: an upsert creates a new record
    assert _upsert(api, "HUB-MOVED", "Again").status_code == 201

    del accounts[created.json()["id"]]
    assert _upsert(api, "HUB-DIRECT", "Recreated").status_code == 201


def test_a_rolled_back_batch_leaves_no_external_id_behind(api: httpx.Client, emulator: Emulator) -> None:
    body = {"allOrNone": True, "records": [{"attributes": {"type": "Account"}, "Hub_Id__c": "HUB-RB", "Name": "A"},
                                           {"attributes": {"type": "Account"}, "Hub_Id__c": "HUB-RB2"}]}
    results = api.patch(f"{API}/composite/sobjects/Account/Hub_Id__c", json=body).json()
    assert [r["success"] for r in results] == [False, False]  # the second has no Name: both rolled back

    assert _upsert(api, "HUB-RB", "Now").status_code == 201
    assert len([a for a in emulator.store["Account"].values() if a.get("Hub_Id__c") == "HUB-RB"]) == 1
