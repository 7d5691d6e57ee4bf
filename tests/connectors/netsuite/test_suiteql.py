"""SuiteQL through the client: envelope, paging, filters, TO_CHAR and NetSuite's errors."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import Rejected
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator
from connectors.netsuite.emulator.seed import parse_time

SQL_PATH = "/services/rest/query/v1/suiteql"


def test_paging_with_limit_offset_has_more(client: NetSuiteClient, emulator: Emulator, base_url: str) -> None:
    query = "SELECT id, entityid FROM customer ORDER BY id"
    first = client.suiteql(query, limit=20, offset=0)
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (20, True, 0, 50)
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert links["next"] == f"{base_url}{SQL_PATH}?limit=20&offset=20"
    assert links["last"] == f"{base_url}{SQL_PATH}?limit=20&offset=40"
    second = client.suiteql(query, limit=20, offset=20)
    third = client.suiteql(query, limit=20, offset=40)
    assert (second["count"], second["hasMore"]) == (20, True)
    assert (third["count"], third["hasMore"], third["offset"]) == (10, False, 40)
    assert "next" not in {link["rel"] for link in third["links"]}
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert ids == sorted(emulator.store["customer"], key=int)
    assert first["items"][0] == {"links": [], "id": ids[0],
                                 "entityid": emulator.store["customer"][ids[0]]["entityId"]}
    sent = [r for r in emulator.requests if r.path == SQL_PATH]
    assert [r.query for r in sent] == [{"limit": "20", "offset": str(n)} for n in (0, 20, 40)]
    assert sent[0].body == {"q": query}


def test_values_are_strings_and_datetimes_are_in_the_account_time_zone(client: NetSuiteClient, emulator: Emulator,
                                                                       customer_id: str) -> None:
    record = emulator.store["customer"][customer_id]
    columns = "id, lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS lastmodified"
    query = f"SELECT {columns}, isinactive, currency FROM customer WHERE id = {int(customer_id)}"  # noqa: S608
    (item,) = client.suiteql(query)["items"]
    # The record service's UTC stamp, in the account's time zone (Los Angeles), as SuiteQL shows it.
    local = parse_time(record["lastModifiedDate"]).astimezone(ZoneInfo("America/Los_Angeles"))
    assert item == {"links": [], "id": customer_id, "lastmodifieddate": f"{local.month}/{local.day}/{local.year}",
                    "lastmodified": local.strftime("%Y-%m-%dT%H:%M:%S"),
                    "isinactive": "T" if record["isInactive"] else "F", "currency": record["currency"]["refName"]}
    assert local.utcoffset() != timedelta(0)


def test_transaction_type_filter_and_keyset(client: NetSuiteClient, emulator: Emulator) -> None:
    orders = client.suiteql("SELECT id FROM transaction WHERE type = 'SalesOrd'", limit=1000)
    assert orders["totalResults"] == len(emulator.store["salesOrder"]) == 121
    invoices = client.suiteql("SELECT id, tranid FROM transaction WHERE type = 'CustInvc'")
    assert invoices["totalResults"] == len(emulator.store["invoice"]) == 352
    pivot = sorted(emulator.store["salesOrder"], key=int)[100]
    query = f"SELECT id FROM transaction WHERE type = 'SalesOrd' AND id > {int(pivot)} ORDER BY id"  # noqa: S608
    after = client.suiteql(query)
    assert [i["id"] for i in after["items"]] == sorted(emulator.store["salesOrder"], key=int)[101:]


def test_lastmodifieddate_window_in_local_time(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    stamp = emulator.store["customer"][customer_id]["lastModifiedDate"]
    local = parse_time(stamp).astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")
    query = (f"SELECT id FROM customer WHERE lastmodifieddate >= TO_DATE('{local}', "  # noqa: S608
             "'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id")
    got = [i["id"] for i in client.suiteql(query)["items"]]
    expected = sorted((r["lastModifiedDate"], int(i)) for i, r in emulator.store["customer"].items()
                      if r["lastModifiedDate"] >= stamp)
    assert got == [str(i) for _, i in expected]
    assert customer_id in got and len(got) < len(emulator.store["customer"])


def test_limit_over_1000_is_rejected(client: NetSuiteClient) -> None:
    with pytest.raises(Rejected) as caught:
        client.suiteql("SELECT id FROM customer", limit=1001)
    assert caught.value.status == 400
    detail = caught.value.body["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorQueryParam"] == "limit"


def test_offset_cap(client: NetSuiteClient) -> None:
    with pytest.raises(Rejected, match="INVALID_PARAMETER"):
        client.suiteql("SELECT id FROM customer", limit=1000, offset=100_000)


@pytest.mark.parametrize("query", ["SELEC id FROM customer", "SELECT id FROM nosuchtable",
                                   "SELECT nosuchcolumn FROM customer", "SELECT id FROM customer WHERE id >"])
def test_malformed_query_is_a_search_error(client: NetSuiteClient, query: str) -> None:
    with pytest.raises(Rejected) as caught:
        client.suiteql(query)
    body = caught.value.body
    assert (body["status"], body["title"]) == (400, "Bad Request")
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    assert body["o:errorDetails"][0]["detail"].startswith("Invalid search query.")


def test_prefer_transient_header_is_required(client: NetSuiteClient) -> None:
    with pytest.raises(Rejected, match="Prefer"):
        client.request("POST", SQL_PATH, json={"q": "SELECT id FROM customer"})


def test_deleted_record_after_delete(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    name = emulator.store["customer"][customer_id]["entityId"]
    emulator.delete("customer", customer_id)
    (row,) = client.suiteql("SELECT recordid, type, recordtypeid, name FROM DeletedRecord")["items"]
    assert row == {"links": [], "recordid": customer_id, "type": "Customer", "recordtypeid": "customer",
                   "name": name}
    assert customer_id not in emulator.store["customer"]
