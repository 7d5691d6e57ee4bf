"""SuiteQL ordered by its FROM table's columns is read off the table's rows kept in that order (``suiteql.window``)
instead of being filtered, joined and sorted whole for every page: each page it answers is the page the general
path (``suiteql.run``) answers, through edits between pages, ties on the ORDER BY columns, LEFT JOIN rows with and
without a partner and conditions it tests row by row; the queries it cannot answer so are left to the general
path, and answered as before."""

from collections.abc import Callable
from typing import Any

import pytest

from connectors.errors import Rejected
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.connector import NetSuiteConnector
from connectors.netsuite.emulator import Emulator, suiteql
from connectors.netsuite.emulator.seed import parse_time
from tests.connectors.netsuite.test_suiteql_joins import LOCAL, _address, _billing, _customers
from tests.connectors.spies import fast_path_spy

Page = dict[str, Any]


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each query the emulator evaluates: whether it was read off an order (True) or left to the general path."""
    return fast_path_spy(monkeypatch, suiteql, "window")


@pytest.fixture
def general(client: NetSuiteClient, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Page]:
    """``general(query, limit=, offset=)``: the page as the general path answers it, the emulator's records as they
    are (the query under a text of its own, so not a result held for the query, and with no window read)."""

    def ask(query: str, **page: int) -> Page:
        with monkeypatch.context() as patched:
            patched.setattr(suiteql, "window", lambda *args: None)
            return client.suiteql(f" {query}", **page)

    return ask


def _tie(emulator: Emulator, record_type: str, record_ids: list[str], stamp: str) -> None:
    """Give records one lastModifiedDate (edited in place, and reported), so the ORDER BY ties them."""
    for record_id in record_ids:
        emulator.store[record_type][record_id]["lastModifiedDate"] = stamp
        emulator.store[record_type].changed(record_id)


def _local(stamp: str) -> str:
    return parse_time(stamp).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize("record_type", ["customer", "job", "salesOrder"])
def test_a_delta_read_paged_by_keyset_reads_as_the_general_path(connector: NetSuiteConnector, emulator: Emulator,
                                                                  general: Callable[..., Page], windows: list[bool],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  record_type: str) -> None:
    """The connector's delta query, a page at a time from the last stamp read (LEFT JOIN to the billing address
    for customers, none for projects, a type condition for sales orders), with records edited between pages."""
    records = emulator.store[record_type]
    ids = sorted(records, key=int)
    _tie(emulator, record_type, ids[::3], records[ids[0]]["lastModifiedDate"])  # a third share one stamp
    if record_type == "customer":
        emulator.touch("customer", ids[1], addressBook={"items": []})  # a LEFT JOIN row without a partner
        emulator.touch("customer", ids[2], addressBook={"items": [_address("Leeds"), _address("York",
                                                                                             defaultBilling=True)]})
    pages: list[tuple[Page, Page]] = []
    suiteql_page = connector.client.suiteql

    def both(query: str, limit: int, offset: int = 0) -> Page:
        pages.append((suiteql_page(query, limit=limit, offset=offset), general(query, limit=limit, offset=offset)))
        return pages[-1][0]

    monkeypatch.setattr(connector.client, "suiteql", both)
    read: set[str] = set()
    for number, page in enumerate(connector.read_changes(record_type, None)):
        read.update(change.external_id for change in page.changes)
        unread = [record_id for record_id in ids if record_id not in read]
        if number == 0:  # a record read already (not at the stamp the next page starts at): read again at the end
            first, last = page.changes[0], page.changes[-1]
            assert first.modified_at != last.modified_at
            emulator.touch(record_type, first.external_id, externalId="HUB-EDITED")
        elif number == 1:  # records not read yet: read at their new place (so many that the order is made anew)
            for record_id in unread[-8:]:
                emulator.touch(record_type, record_id, externalId=f"HUB-{record_id}")
        elif number == 2 and page.has_more:  # one record: its key moved in the order
            emulator.touch(record_type, unread[0], externalId="HUB-ONE")

    assert len(pages) >= 3 and all(fast == slow for fast, slow in pages)
    assert len(windows) >= 3 and all(windows)  # every page read off the order
    last: dict[str, dict[str, str]] = {item["id"]: item for fast, _ in pages for item in fast["items"]}
    assert set(last) == set(records)  # every record read, each last as it is now
    assert all(last[i]["lastmodified"] == _local(records[i]["lastModifiedDate"]) for i in ids)
    if record_type == "customer":
        assert "billing_city" not in last[ids[1]] and last[ids[2]]["billing_city"] == "York"
        assert all(last[i]["billing_city"] == _billing(records[i])["city"] for i in ids if i != ids[1])


SINCE = "TO_DATE('2026-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')"
STAMP = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS lastmodified"
# The customers after ({tie}, {mid}) in the order lastmodifieddate, id: a page of a keyset paging.
AFTER = ("{tie} AND (customer.lastmodifieddate > {tie} OR (customer.lastmodifieddate = {tie} "
         "AND customer.id > {mid}))")


@pytest.mark.parametrize("query", [
    _customers(since=SINCE),
    _customers(since=SINCE).replace(" ORDER BY", " AND customer.isinactive = 'F' AND customer.id <> 7161 ORDER BY"),
    "SELECT c.id, b.city FROM customer c LEFT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress "
    "WHERE c.id > 7161 AND c.id <= 7189 AND c.id >= 7157 ORDER BY c.id",  # bounds that are ids
    "SELECT id, companyname FROM customer WHERE companyname >= 'M' ORDER BY companyname",
    "SELECT id, companyname FROM customer WHERE companyname = 'Tied Ltd' ORDER BY companyname",
    "SELECT id, companyname FROM customer WHERE companyname < 'M' AND lastmodifieddate >= {since} "
    "ORDER BY companyname, lastmodifieddate, id",
    "SELECT id, parent FROM customer ORDER BY parent, id",  # empty values first
    "SELECT id, parent FROM customer WHERE parent <= '7300' ORDER BY parent, id",  # and never kept
    "SELECT id, parent FROM customer WHERE parent > 7160 ORDER BY id",  # a number against text: read as numbers
    "SELECT * FROM customer WHERE id >= 7170 ORDER BY lastmodifieddate",
    "SELECT j.id, c.companyname, BUILTIN.DF(j.parent) AS parentname FROM job j LEFT JOIN customer c "
    "ON c.id = j.parent WHERE j.lastmodifieddate >= {since} ORDER BY j.lastmodifieddate, j.id",
    "SELECT id, type, {stamp} FROM transaction WHERE type = 'SalesOrd' AND lastmodifieddate >= {since} "
    "ORDER BY lastmodifieddate, id",
    "SELECT nkey, recordowner, city FROM entityaddress WHERE nkey > 7160000 ORDER BY nkey",
    "SELECT recordid, type, deleteddate FROM DeletedRecord WHERE type = 'Customer' AND deleteddate >= {since} "
    "ORDER BY deleteddate, recordid",
    # OR, and parentheses
    "SELECT id, {stamp} FROM customer WHERE lastmodifieddate >= {tie} AND (lastmodifieddate > {tie} OR "
    "(lastmodifieddate = {tie} AND id > {mid})) ORDER BY lastmodifieddate, id",
    _customers(since=AFTER),
    "SELECT id, companyname FROM customer WHERE companyname = 'Tied Ltd' OR id < 7170 ORDER BY lastmodifieddate, id",
    "SELECT id FROM customer WHERE lastmodifieddate >= {since} AND (companyname = 'Moved Ltd' OR (id > 7161 "
    "AND id <= 7189)) ORDER BY lastmodifieddate, id",
    "SELECT id FROM customer WHERE id < 7165 OR id > 7300 OR id = 7181 ORDER BY id",  # spans with gaps
    "SELECT id FROM customer WHERE (id >= 7161 AND id < 7200) OR (id > 7180 AND id < 7250) ORDER BY id",  # overlap
    "SELECT id FROM customer WHERE lastmodifieddate > {tie} OR (lastmodifieddate = {tie} AND companyname <> 'Tied "
    "Ltd') ORDER BY lastmodifieddate, id",
    "SELECT id FROM customer WHERE (lastmodifieddate = {tie} OR lastmodifieddate < {since}) AND (id = {mid} OR "
    "id >= 7300) ORDER BY lastmodifieddate, id",
    "SELECT recordid, type FROM DeletedRecord WHERE type = 'Customer' AND deleteddate >= {since} AND "
    "(deleteddate > {since} OR (deleteddate = {since} AND recordid > 7170)) ORDER BY deleteddate, recordid",
])
def test_a_query_read_off_an_order_answers_every_page_as_the_general_path(client: NetSuiteClient, emulator: Emulator,
                                                                          general: Callable[..., Page],
                                                                          windows: list[bool], query: str) -> None:
    customers = emulator.store["customer"]
    ids = sorted(customers, key=int)
    tie = f"TO_DATE('{_local(customers[ids[5]]['lastModifiedDate'])}', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    query = query.format(since=SINCE, stamp=STAMP, tie=tie, mid=ids[13])
    _tie(emulator, "customer", ids[1::4], customers[ids[5]]["lastModifiedDate"])
    for record_id in ids[2::5]:
        emulator.touch("customer", record_id, companyName="Tied Ltd")
    emulator.touch("customer", ids[3], addressBook={"items": []})
    for record_id in ids[40:43]:
        emulator.delete("customer", record_id)
    edits: list[Callable[[], Any]] = [
        lambda: emulator.touch("customer", ids[6], companyName="Moved Ltd"),  # one record: its key is moved
        lambda: _tie(emulator, "customer", [ids[20]], customers[ids[5]]["lastModifiedDate"]),  # back among ties
        lambda: emulator.touch("job", next(iter(emulator.store["job"])), isInactive=True),
        lambda: emulator.delete("customer", ids[44]),
        lambda: emulator.create("customer", {"companyName": "New Ltd", "isInactive": False}),
        lambda: [emulator.touch("customer", i, companyName="Tied Ltd") for i in ids[10:20]],  # many: sorted anew
    ]
    for edit in [lambda: None, *edits]:
        edit()
        for limit, offset in ((7, 0), (7, 14), (1000, 0)):
            assert client.suiteql(query, limit=limit, offset=offset) == general(query, limit=limit, offset=offset)
    assert windows and all(windows)
    assert client.suiteql(query, limit=1000)["totalResults"] > 0


def _desc(emulator: Emulator) -> list[str]:
    records = emulator.store["customer"].values()
    return [r["id"] for r in sorted(records, key=lambda r: (r["lastModifiedDate"], int(r["id"])), reverse=True)]


def _inner(emulator: Emulator) -> list[str]:
    return sorted((i for i, r in emulator.store["customer"].items() if _billing(r)), key=int)


def _in_leeds(emulator: Emulator) -> list[str]:
    return sorted((i for i, r in emulator.store["customer"].items() if _billing(r).get("city") == "Leeds"), key=int)


def _with_projects(emulator: Emulator) -> list[str]:
    jobs = [(r.get("parent") or {}).get("id") for r in emulator.store["job"].values()]
    return [i for i in sorted(emulator.store["customer"], key=int) for _ in range(max(jobs.count(i), 1))]


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT id FROM customer ORDER BY lastmodifieddate DESC, id DESC", _desc),
    ("SELECT c.id FROM customer c JOIN entityaddress b ON b.nkey = c.defaultbillingaddress ORDER BY c.id", _inner),
    ("SELECT c.id FROM customer c LEFT JOIN entityaddress b ON b.nkey = c.defaultbillingaddress "
     "WHERE b.city = 'Leeds' ORDER BY c.id", _in_leeds),
    ("SELECT c.id FROM customer c LEFT JOIN job j ON j.parent = c.id ORDER BY c.id", _with_projects),  # 1 to many
])
def test_a_query_no_order_answers_is_left_to_the_general_path(client: NetSuiteClient, emulator: Emulator,
                                                              windows: list[bool], query: str,
                                                              expected: Callable[[Emulator], list[str]]) -> None:
    ids = sorted(emulator.store["customer"], key=int)
    _tie(emulator, "customer", ids[::3], emulator.store["customer"][ids[0]]["lastModifiedDate"])
    emulator.touch("customer", ids[1], addressBook={"items": []})
    emulator.touch("customer", ids[2], addressBook={"items": [_address("Leeds", defaultBilling=True)]})
    items = client.suiteql(query, limit=1000)["items"]
    assert [item["id"] for item in items] == expected(emulator)
    assert not any(windows)


def test_a_condition_that_does_not_compare_is_the_search_error_it_was(client: NetSuiteClient, emulator: Emulator,
                                                                      customer_id: str, windows: list[bool]) -> None:
    """A condition the general path tests on every row raises at the first value it does not compare with, even
    where another condition keeps no row at all: such a query is not read off an order (which tests no row outside
    the span its leading column keeps)."""
    # the second condition keeps no row
    for query in ("SELECT id FROM customer WHERE id >= 'A' AND lastmodifieddate >= TO_DATE('2100-01-01', "
                  "'YYYY-MM-DD') ORDER BY lastmodifieddate",
                  "SELECT id FROM customer WHERE companyname >= TO_DATE('2026-01-01', 'YYYY-MM-DD') "
                  "AND lastmodifieddate >= TO_DATE('2100-01-01', 'YYYY-MM-DD') ORDER BY lastmodifieddate"):
        with pytest.raises(Rejected) as caught:
            client.suiteql(query)
        assert "Cannot compare field" in caught.value.body["o:errorDetails"][0]["detail"]
    assert not any(windows)

    windows.clear()
    query = ("SELECT id FROM customer WHERE companyname >= 'A' AND lastmodifieddate >= TO_DATE('2100-01-01', "
             "'YYYY-MM-DD') ORDER BY lastmodifieddate")
    assert client.suiteql(query)["items"] == [] and windows == [True]
    emulator.touch("customer", customer_id, companyName=["not", "a", "name"])  # a value no string compares with
    with pytest.raises(Rejected) as caught:
        client.suiteql(query)
    assert "Cannot compare field 'companyname'" in caught.value.body["o:errorDetails"][0]["detail"]
    assert windows == [True, False]


def test_a_keyset_page_is_a_span_of_the_order_no_row_of_it_tested(client: NetSuiteClient, emulator: Emulator,
                                                                  general: Callable[..., Page], windows: list[bool],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``a > x OR (a = x AND b > y)`` over an order by ``a, b`` keeps one span of it, found by bisection (the rows
    after one row, wherever the page is in a table of 100,000), as ``a = x AND b > y`` alone does; a disjunction
    whose spans leave gaps, or whose options test more, is tested on the rows from its first span to its last."""
    customers = emulator.store["customer"]
    ids = sorted(customers, key=int)
    _tie(emulator, "customer", ids[1::4], customers[ids[5]]["lastModifiedDate"])
    tie = f"TO_DATE('{_local(customers[ids[5]]['lastModifiedDate'])}', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    tested: list[int] = []
    test = suiteql._filter
    monkeypatch.setattr(suiteql, "_filter", lambda query, rows: tested.append(len(rows)) or test(query, rows))
    cases = [  # {n}: the n-th customer's id
        (_customers(since=AFTER).replace("{mid}", "{13}"), []),
        ("SELECT id FROM customer WHERE lastmodifieddate = {tie} AND id > {13} ORDER BY lastmodifieddate, id", []),
        ("SELECT id FROM customer WHERE (id >= {5} AND id < {20}) OR (id > {10} AND id <= {30}) OR id = {31} "
         "ORDER BY id", []),  # spans that overlap, and spans with no row between them
        ("SELECT id FROM customer WHERE id < {3} OR id > {46} ORDER BY id", [len(ids)]),  # a gap
        ("SELECT id FROM customer WHERE id >= {10} AND (id < {12} OR (id < {20} AND companyname <> 'x')) "
         "ORDER BY id", [10]),  # an option that tests more
    ]
    for template, rows_tested in cases:
        query = template.format(*ids, tie=tie)
        tested.clear()
        page = client.suiteql(query, limit=5)
        assert tested == rows_tested, query
        assert page == general(query, limit=5) and page["items"]
    assert all(windows)
