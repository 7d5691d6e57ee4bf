"""SuiteQL joins through the client: qualified columns, LEFT/INNER JOIN to EntityAddress, BUILTIN.DF, expression
names, NetSuite's errors, and a join's result following every change to each table it reads."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import Rejected
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator, handlers
from connectors.netsuite.emulator.seed import parse_time

LOCAL = ZoneInfo("America/Los_Angeles")
WINDOW = datetime(2026, 6, 1)  # account-local: the queries' window
SINCE = f"TO_DATE('{WINDOW:%Y-%m-%d %H:%M:%S}', 'YYYY-MM-DD HH24:MI:SS')"
ADDRESS = ("addr1", "city", "state", "zip", "country")
CUSTOMERS = ("SELECT customer.id AS id, "
             "TO_CHAR(customer.lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS lastmodified, "
             "customer.companyname AS companyname, customer.isinactive AS isinactive, customer.parent AS parent, "
             "BUILTIN.DF(customer.currency) AS currency, billing.addr1 AS billing_addr1, "
             "billing.city AS billing_city, "
             "billing.state AS billing_state, billing.zip AS billing_zip, billing.country AS billing_country "
             "FROM customer {join} entityaddress billing ON billing.nkey = customer.defaultbillingaddress "
             "WHERE customer.lastmodifieddate >= {since} ORDER BY customer.lastmodifieddate, customer.id")
PROJECTS = ("SELECT job.id AS id, job.parent AS parent, BUILTIN.DF(job.parent) AS parentname, "
            "BUILTIN.DF(job.entitystatus) AS entitystatus, BUILTIN.DF(job.jobtype) AS jobtype, "
            "BUILTIN.DF(job.jobbillingtype) AS jobbillingtype, BUILTIN.DF(job.currency) AS currency, "
            "job.startdate AS startdate, TO_CHAR(job.projectedenddate, 'MM/DD/YYYY') AS projectedenddate "
            "FROM job WHERE job.lastmodifieddate >= {since} ORDER BY job.lastmodifieddate, job.id")
BY_ID = ("SELECT customer.id AS id, billing.city AS city FROM customer LEFT JOIN entityaddress billing "
         "ON billing.nkey = customer.defaultbillingaddress ORDER BY customer.id")


def _customers(join: str = "LEFT JOIN", since: str = SINCE) -> str:
    return CUSTOMERS.format(join=join, since=since)


def _billing(record: dict[str, Any]) -> dict[str, Any]:
    """The address the hub maps as the billing one: the item flagged default billing, else the first."""
    items = (record.get("addressBook") or {}).get("items") or []
    chosen = next((i for i in items if i.get("defaultBilling")), items[0] if items else {})
    return chosen.get("addressBookAddress") or {}


def _expected(record: dict[str, Any]) -> dict[str, Any]:
    """The customer query's item for a record, as the record service holds it."""
    local = parse_time(record["lastModifiedDate"]).astimezone(LOCAL)
    item = {"links": [], "id": record["id"], "lastmodified": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "companyname": record["companyName"], "isinactive": "T" if record["isInactive"] else "F",
            "currency": record["currency"]["refName"]}
    if record.get("parent"):
        item["parent"] = record["parent"]["id"]
    address = _billing(record)
    for field in ADDRESS:
        value = address.get(field)
        if isinstance(value, dict):
            value = value["id"]
        if value is not None:
            item[f"billing_{field}"] = value
    return item


def _in_window(record: dict[str, Any]) -> bool:
    return parse_time(record["lastModifiedDate"]).astimezone(LOCAL).replace(tzinfo=None) >= WINDOW


def _rejected(client: NetSuiteClient, query: str) -> str:
    with pytest.raises(Rejected) as caught:
        client.suiteql(query)
    body = caught.value.body
    assert (body["status"], body["title"]) == (400, "Bad Request")
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    detail = body["o:errorDetails"][0]["detail"]
    assert detail.startswith("Invalid search query.")
    return detail


def _address(city: str, **flags: bool) -> dict[str, Any]:
    return {**flags, "addressBookAddress": {"addressee": "Ops", "addr1": f"1 {city} Road", "city": city,
                                            "country": {"id": "GB"}}}


def test_customers_with_their_billing_address_and_currency_name(client: NetSuiteClient, emulator: Emulator) -> None:
    page = client.suiteql(_customers(), limit=1000)
    records = sorted((r for r in emulator.store["customer"].values() if _in_window(r)),
                     key=lambda r: (r["lastModifiedDate"], int(r["id"])))
    assert 0 < len(records) < len(emulator.store["customer"])  # the window leaves some out
    assert page["items"] == [_expected(r) for r in records]
    assert all("billing_city" in item and "billing_country" in item for item in page["items"])


def test_projects_with_list_names(client: NetSuiteClient, emulator: Emulator) -> None:
    items = client.suiteql(PROJECTS.format(since=SINCE), limit=1000)["items"]
    jobs = emulator.store["job"]
    assert len(items) == sum(1 for r in jobs.values() if _in_window(r)) > 0
    for item in items:
        record = jobs[item["id"]]
        year, month, day = record["projectedEndDate"].split("-")
        assert item == {"links": [], "id": record["id"], "parent": record["parent"]["id"],
                        "parentname": record["parent"]["refName"],
                        "entitystatus": record["entityStatus"]["refName"], "jobtype": record["jobType"]["refName"],
                        "jobbillingtype": record["jobBillingType"]["refName"],
                        "currency": record["currency"]["refName"], "startdate": record["startDate"],
                        "projectedenddate": f"{month}/{day}/{year}"}


def test_no_address_book_left_join_keeps_the_row_inner_join_drops_it(client: NetSuiteClient, emulator: Emulator,
                                                                      customer_id: str) -> None:
    emulator.touch("customer", customer_id, addressBook={"items": []})
    left = {i["id"]: i for i in client.suiteql(_customers(), limit=1000)["items"]}
    assert left[customer_id] == _expected(emulator.store["customer"][customer_id])
    assert not any(key.startswith("billing_") for key in left[customer_id])
    for join in ("INNER JOIN", "JOIN"):
        inner = {i["id"]: i for i in client.suiteql(_customers(join), limit=1000)["items"]}
        assert customer_id not in inner and inner == {k: v for k, v in left.items() if k != customer_id}


def test_unqualified_queries_read_as_the_qualified_and_aliased_ones(client: NetSuiteClient, emulator: Emulator,
                                                                    customer_id: str) -> None:
    plain = client.suiteql("SELECT id, entityid, currency FROM customer WHERE id >= 0 ORDER BY id")["items"]
    record = emulator.store["customer"][customer_id]
    assert plain[0] == {"links": [], "id": customer_id, "entityid": record["entityId"],
                        "currency": record["currency"]["refName"]}
    for query in ("SELECT customer.id, customer.entityid, customer.currency FROM customer "
                  "WHERE customer.id >= 0 ORDER BY customer.id",
                  "SELECT c.id, c.entityid, c.currency FROM customer c WHERE c.id >= 0 ORDER BY c.id",
                  "SELECT c.id, entityid, c.currency FROM customer AS c WHERE id >= 0 ORDER BY c.id",
                  "SELECT customer.id, customer.entityid, customer.currency FROM customer LEFT JOIN entityaddress b "
                  "ON b.nkey = customer.defaultbillingaddress WHERE customer.id >= 0 ORDER BY customer.id"):
        assert client.suiteql(query)["items"] == plain, query


def test_builtin_df_reads_a_reference_by_name(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    job_id, job = next((i, r) for i, r in emulator.store["job"].items() if r["parent"].get("refName"))
    query = f"SELECT parent, BUILTIN.DF(parent) AS name FROM job WHERE id = {job_id}"  # noqa: S608
    (item,) = client.suiteql(query)["items"]
    assert item == {"links": [], "parent": job["parent"]["id"], "name": job["parent"]["refName"]}

    customer = emulator.store["customer"][customer_id]
    assert "refName" not in customer["subsidiary"] and "id" not in customer["currency"]
    query = ("SELECT BUILTIN.DF(subsidiary) AS subsidiary, currency, BUILTIN.DF(currency) AS currencyname, "  # noqa: S608
             f"BUILTIN.DF(companyname) AS companyname FROM customer WHERE id = {customer_id}")
    (item,) = client.suiteql(query)["items"]
    currency = customer["currency"]["refName"]
    assert item == {"links": [], "subsidiary": customer["subsidiary"]["id"], "currency": currency,
                    "currencyname": currency, "companyname": customer["companyName"]}

    emulator.touch("customer", customer_id, addressBook={"items": [
        {"addressBookAddress": {"city": "Leeds", "country": {"id": "GB", "refName": "United Kingdom"}}}]})
    query = ("SELECT b.country, BUILTIN.DF(b.country) AS countryname FROM customer c JOIN entityaddress b "  # noqa: S608
             f"ON b.nkey = c.defaultbillingaddress WHERE c.id = {customer_id}")
    (item,) = client.suiteql(query)["items"]
    assert item == {"links": [], "country": "GB", "countryname": "United Kingdom"}


def test_expressions_without_a_name_are_numbered(client: NetSuiteClient, customer_id: str) -> None:
    query = ("SELECT TO_CHAR(c.lastmodifieddate, 'YYYY'), c.id, BUILTIN.DF(c.currency), "  # noqa: S608
             "TO_CHAR(c.lastmodifieddate, 'MM') AS month, BUILTIN.DF(b.country), b.city, c.entityid AS code "
             "FROM customer c LEFT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress "
             f"WHERE c.id = {customer_id}")
    (item,) = client.suiteql(query)["items"]
    assert list(item) == ["links", "expr1", "id", "expr2", "month", "expr3", "city", "code"]


@pytest.mark.parametrize(("query", "named"), [
    ("SELECT x.id FROM customer", "'x'"),
    ("SELECT customer.id FROM customer c", "'customer'"),
    ("SELECT billing.nosuchcolumn FROM customer LEFT JOIN entityaddress billing "
     "ON billing.nkey = customer.defaultbillingaddress", "Field 'nosuchcolumn' for record 'entityaddress'"),
    ("SELECT customer.id FROM customer LEFT JOIN entityaddress billing "
     "ON billing.nokey = customer.defaultbillingaddress", "Field 'nokey' for record 'entityaddress'"),
    ("SELECT customer.id FROM customer JOIN entityaddress b ON b.nkey = customer.defaultbillingaddress "
     "WHERE b.nosuchcolumn = 'x'", "Field 'nosuchcolumn'"),
    ("SELECT customer.id FROM customer JOIN nosuchtable b ON b.nkey = customer.defaultbillingaddress",
     "'nosuchtable'"),
    ("SELECT c.id FROM customer c JOIN entityaddress c ON c.nkey = c.defaultbillingaddress", "'c'"),
    ("SELECT c.id FROM customer c RIGHT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress", "RIGHT"),
    ("SELECT c.id FROM customer c JOIN entityaddress b ON b.nkey > c.defaultbillingaddress", "equality"),
    ("SELECT c.id FROM customer c JOIN entityaddress b ON c.id = c.defaultbillingaddress", "'b'"),
    ("SELECT c.id FROM customer c JOIN entityaddress b ON b.nkey = d.defaultbillingaddress", "'d'"),
])
def test_unknown_alias_field_or_join_is_a_search_error(client: NetSuiteClient, query: str, named: str) -> None:
    assert named in _rejected(client, query)


def test_an_address_change_is_read_by_the_same_query_text(client: NetSuiteClient, emulator: Emulator,
                                                          customer_id: str, monkeypatch) -> None:
    evaluations = []
    evaluate = handlers._evaluate
    monkeypatch.setattr(handlers, "_evaluate", lambda *args: evaluations.append(1) or evaluate(*args))
    record = emulator.store["customer"][customer_id]
    first = client.suiteql(BY_ID, limit=10)  # more pages to come: the result is held
    assert first["items"][0] == {"links": [], "id": customer_id, "city": _billing(record)["city"]}
    assert client.suiteql(BY_ID, limit=10)["items"] == first["items"] and len(evaluations) == 1

    emulator.touch("customer", customer_id, addressBook={"items": [_address("Leeds", defaultBilling=True)]})
    assert client.suiteql(BY_ID, limit=10)["items"][0]["city"] == "Leeds"

    record["addressBook"]["items"][0]["addressBookAddress"]["city"] = "York"  # edited in place, then reported
    emulator.store["customer"].changed(customer_id)
    assert client.suiteql(BY_ID, limit=10)["items"][0]["city"] == "York"
    assert len(evaluations) == 3


def test_a_change_to_a_joined_table_is_read_by_the_same_query_text(client: NetSuiteClient, emulator: Emulator,
                                                                   customer_id: str) -> None:
    query = ("SELECT a.nkey, c.companyname FROM entityaddress a JOIN customer c ON c.id = a.recordowner "
             "ORDER BY a.nkey")
    first = client.suiteql(query, limit=10)
    name = emulator.store["customer"][customer_id]["companyName"]
    assert first["hasMore"] and first["items"][0]["companyname"] == name
    emulator.touch("customer", customer_id, companyName="Renamed Ltd")
    assert client.suiteql(query, limit=10)["items"][0]["companyname"] == "Renamed Ltd"


def test_paging_through_a_joined_query(client: NetSuiteClient, emulator: Emulator, monkeypatch) -> None:
    looked_up = []
    lookup = handlers.Addresses.get
    monkeypatch.setattr(handlers.Addresses, "get", lambda self, key: looked_up.append(key) or lookup(self, key))
    query = _customers(since="TO_DATE('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')")
    pages = [client.suiteql(query, limit=20, offset=offset) for offset in (0, 20, 40)]
    assert [(p["count"], p["hasMore"], p["totalResults"]) for p in pages] == [(20, True, 50), (20, True, 50),
                                                                             (10, False, 50)]
    assert [i for p in pages for i in p["items"]] == client.suiteql(query, limit=1000)["items"]
    # A delta query joins the addresses of the customers in its window only, whatever the table holds.
    looked_up.clear()
    latest = max(emulator.store["customer"].values(), key=lambda r: r["lastModifiedDate"])
    since = parse_time(latest["lastModifiedDate"]).astimezone(emulator.timezone).strftime("%Y-%m-%d %H:%M:%S")
    window = client.suiteql(_customers(since=f"TO_DATE('{since}', 'YYYY-MM-DD HH24:MI:SS')"), limit=5)["items"]
    assert 1 <= len(window) and len(looked_up) == len(window) < len(emulator.store["customer"])
    emulator.touch("customer", pages[0]["items"][0]["id"], companyName="Edited")
    assert client.suiteql(query, limit=1000)["items"][-1]["companyname"] == "Edited"


def test_address_keys_and_default_addresses(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    job_id = next(iter(emulator.store["job"]))
    emulator.touch("job", job_id, addressBook={"items": [_address("Bath"), _address("Hull", defaultShipping=True)]})
    emulator.touch("customer", customer_id, addressBook={"items": [
        _address("Leeds", defaultShipping=True), _address("York", defaultBilling=True)]})
    query = "SELECT nkey, recordowner, city FROM entityaddress ORDER BY nkey"
    rows = client.suiteql(query, limit=1000)["items"]
    # One address per customer, the customer's second and the job's two: each with its own key.
    assert len({r["nkey"] for r in rows}) == len(rows) == len(emulator.store["customer"]) + 1 + 2
    keys = {(r["recordowner"], r["city"]): r["nkey"] for r in rows}

    defaults = ("SELECT id, defaultbillingaddress, defaultshippingaddress FROM {} WHERE id = {}")
    (job,) = client.suiteql(defaults.format("job", job_id))["items"]
    assert job == {"links": [], "id": job_id, "defaultbillingaddress": keys[(job_id, "Bath")],  # the first
                   "defaultshippingaddress": keys[(job_id, "Hull")]}
    (customer,) = client.suiteql(defaults.format("customer", customer_id))["items"]
    assert customer == {"links": [], "id": customer_id, "defaultbillingaddress": keys[(customer_id, "York")],
                        "defaultshippingaddress": keys[(customer_id, "Leeds")]}
    other = next(i for i in emulator.store["customer"] if i != customer_id)
    (unflagged,) = client.suiteql(defaults.format("customer", other))["items"]
    assert "defaultshippingaddress" not in unflagged  # none flagged: empty

    emulator.touch("customer", other, companyName="Unrelated edit")  # the rows are built anew: same keys
    assert client.suiteql(query, limit=1000)["items"] == rows


def test_a_column_empty_in_every_row_is_still_a_column(client: NetSuiteClient, emulator: Emulator) -> None:
    for record_id in list(emulator.store["customer"]):
        emulator.touch("customer", record_id, parent=None)
    query = ("SELECT c.id, c.parent, BUILTIN.DF(c.parent) AS parentname, b.addr2, b.attention, "
             "c.defaultshippingaddress FROM customer c LEFT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress")
    items = client.suiteql(query, limit=1000)["items"]
    assert len(items) == 50 and all(set(item) == {"links", "id"} for item in items)
    assert "'addressbook'" in _rejected(client, "SELECT addressbook FROM customer")  # a sublist: a table of its own
