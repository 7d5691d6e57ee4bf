"""NetSuiteConnector end to end against the emulator over HTTP."""

from datetime import UTC, datetime, timedelta

import pytest

from canonical.demo import generate
from connectors.base import Upsert
from connectors.netsuite import mapping
from connectors.netsuite.connector import NetSuiteConnector
from connectors.netsuite.emulator import Emulator
from connectors.netsuite.emulator.seed import parse_time
from tests.connectors.netsuite.conftest import CONFIG

_DATA = generate(seed=42, clients=50)
DEMO = {(s.object_type, s.external_id): s.attributes for spec in (*_DATA.clients, *_DATA.engagements, *_DATA.contracts)
        for s in spec.sources if s.system == "netsuite"}


def _stamp(emulator: Emulator, record_type: str, record_id: str) -> datetime:
    return parse_time(emulator.store[record_type][record_id]["lastModifiedDate"])


def mark(cursor: str) -> str:
    """A time cursor's high-water mark (see connectors.cursors)."""
    return cursor.split("|")[0]


def _window(emulator: Emulator, record_type: str, since: datetime) -> list[str]:
    """Ids modified at or after ``since``, in (lastmodifieddate, id) order."""
    rows = sorted((_stamp(emulator, record_type, i), int(i)) for i in emulator.store[record_type])
    return [str(i) for at, i in rows if at >= since]


def test_full_read_pages_and_cursor(connector: NetSuiteConnector, emulator: Emulator) -> None:
    pages = list(connector.read_changes("customer", None))
    assert [len(p.changes) for p in pages] == [20, 20, 10]
    assert [p.has_more for p in pages] == [True, True, False]
    changes = [c for p in pages for c in p.changes]
    assert [c.external_id for c in changes] == _window(emulator, "customer", datetime(2000, 1, 1, tzinfo=UTC))
    for change in changes:
        assert change.entity_type == "client" and not change.deleted
        assert change.attributes == DEMO["customer", change.external_id]
        assert change.modified_at == _stamp(emulator, "customer", change.external_id)
        assert "links" not in change.payload
    assert mark(pages[-1].cursor) == max(c.modified_at for c in changes).isoformat()
    assert mark(pages[0].cursor) == max(c.modified_at for c in pages[0].changes).isoformat()
    # Customers come whole with the delta query: no record GET.
    assert emulator.count("GET", "/services/rest/record/v1/customer/") == 0
    assert emulator.count("POST", "/services/rest/query/v1/suiteql") == 3


def test_sales_orders_and_jobs(connector: NetSuiteConnector, emulator: Emulator) -> None:
    orders = [c for p in connector.read_changes("salesOrder", None) for c in p.changes]
    assert len(orders) == 121
    assert all(c.attributes == DEMO["salesOrder", c.external_id] and c.entity_type == "contract" for c in orders)
    # Orders keep their lines in another table: each is fetched from the record service.
    assert emulator.count("GET", "/services/rest/record/v1/salesOrder/") == 121
    jobs = [c for p in connector.read_changes("job", None) for c in p.changes]
    assert len(jobs) == 79 and all(c.attributes == DEMO["job", c.external_id] for c in jobs)
    assert emulator.count("GET", "/services/rest/record/v1/job/") == 0


def test_a_record_read_whole_maps_as_the_record_service_record(connector: NetSuiteConnector,
                                                               emulator: Emulator) -> None:
    """Every field the mapping reads, and the external id the hub recognises its own writes by, come through
    SuiteQL as the record service gives them; a record the hub wrote carries its id."""
    emulator.store["customer"][min(emulator.store["customer"], key=int)]["externalId"] = "HUB-1"
    emulator.store["customer"].changed(min(emulator.store["customer"], key=int))
    for object_type in ("customer", "job"):
        for change in (c for p in connector.read_changes(object_type, None) for c in p.changes):
            held = connector.client.get(object_type, change.external_id)
            assert change.attributes == mapping.INBOUND[object_type](held)
            assert connector.held_hub_id(change.payload) == connector.held_hub_id(held)
            assert change.payload["lastModifiedDate"] == held["lastModifiedDate"]
    hub_written = connector.parse_record("customer", connector.client.get("customer", min(emulator.store["customer"],
                                                                                            key=int)))
    assert connector.held_hub_id(hub_written.payload) == "HUB-1"


def test_a_sweep_rereads_the_overlap_before_the_mark_and_takes_turns_with_deltas(
        base_url: str, credentials: None, emulator: Emulator) -> None:
    connector = NetSuiteConnector(base_url=base_url, config={**CONFIG, "page_size": 20, "sweep_s": 0})
    cursor = list(connector.read_changes("customer", None))[-1].cursor
    latest = datetime.fromisoformat(mark(cursor))
    # 45 edits a minute before the mark
    in_window = [i for i in sorted(emulator.store["customer"], key=int) if _stamp(emulator, "customer", i) < latest]
    in_window = in_window[-45:]
    _tie(emulator, "customer", in_window, (latest - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    expected = _window(emulator, "customer", latest - timedelta(seconds=120))
    assert len(expected) > 40 and _stamp(emulator, "customer", expected[-1]) == latest
    pages = connector.read_changes("customer", cursor)
    # The delta from the mark (its second again: not settled yet), then the sweep ...
    assert [c.external_id for c in next(pages).changes] == _window(emulator, "customer", latest)
    first = next(pages)
    assert [c.external_id for c in first.changes] == expected[:20]
    # ... and a change made while it reads is read before its next page.
    changed = min(emulator.store["customer"], key=int)
    emulator.touch("customer", changed, companyName="Meridian Group Holdings Limited")
    delta = next(pages)
    # (the mark's second again, as any delta within settle_s of it)
    assert [c.external_id for c in delta.changes] == [*_window(emulator, "customer", latest)[:-1], changed]
    assert mark(delta.cursor) > mark(cursor)
    rest = list(pages)
    # The sweep's other pages (it reads to the end: the change again), deltas between them (the changed record's
    # second again, within settle_s).
    ids = [c.external_id for p in rest for c in p.changes]
    assert [i for i in ids if i != changed] == expected[20:] and ids[-1] == changed
    # Recorded with its last page: started when the mark was the full read's.
    assert rest[-1].cursor.split("|")[:2] == [mark(delta.cursor), mark(cursor)]
    assert all(p.cursor.split("|")[1] != mark(cursor) for p in (first, delta, *rest[:-1]))


def test_reads_between_sweeps_start_at_the_mark(connector: NetSuiteConnector, emulator: Emulator) -> None:
    cursor = list(connector.read_changes("customer", None))[-1].cursor  # a full read counts as a sweep
    pages = list(connector.read_changes("customer", cursor))  # within the minute: from the mark, its second included
    assert [c.external_id for p in pages for c in p.changes] == _window(emulator, "customer",
                                                                         datetime.fromisoformat(mark(cursor)))
    assert pages[-1].cursor == cursor


def test_delta_after_touch(connector: NetSuiteConnector, emulator: Emulator, customer_id: str) -> None:
    cursor = list(connector.read_changes("customer", None))[-1].cursor
    boundary = _window(emulator, "customer", datetime.fromisoformat(mark(cursor)))
    emulator.touch("customer", customer_id, companyName="Meridian Group Holdings Limited")
    pages = list(connector.read_changes("customer", cursor))
    changes = [c for p in pages for c in p.changes]
    assert [c.external_id for c in changes] == [*[i for i in boundary if i != customer_id], customer_id]
    assert changes[-1].attributes["legal_name"] == "Meridian Group Holdings Limited"
    assert mark(pages[-1].cursor) == _stamp(emulator, "customer", customer_id).isoformat()
    assert mark(pages[-1].cursor) > mark(cursor)


def test_read_deleted(connector: NetSuiteConnector, emulator: Emulator) -> None:
    assert [len(p.changes) for p in connector.read_deleted("customer", None)] == [0]
    first, second = sorted(emulator.store["customer"], key=int)[:2]
    job = min(emulator.store["job"], key=int)
    emulator.delete("customer", first)
    emulator.delete("job", job)
    emulator.delete("customer", second)
    pages = list(connector.read_deleted("customer", None))
    changes = [c for p in pages for c in p.changes]
    assert [(c.external_id, c.deleted, c.entity_type) for c in changes] == [(first, True, "client"),
                                                                            (second, True, "client")]
    assert mark(pages[-1].cursor) == emulator.deleted[-1][3].isoformat() == changes[-1].modified_at.isoformat()
    jobs = [c for p in connector.read_deleted("job", None) for c in p.changes]
    assert [(c.external_id, c.entity_type) for c in jobs] == [(job, "engagement")]
    # From the last cursor, a sweep re-reads deletions within 120 s of the mark (both were just now).
    sweeping = NetSuiteConnector(base_url=connector.base_url, config={**CONFIG, "sweep_s": 0})
    again = [c.external_id for p in sweeping.read_deleted("customer", pages[-1].cursor) for c in p.changes]
    assert again[-2:] == [first, second]


def test_write_upserts_by_hub_id(connector: NetSuiteConnector, emulator: Emulator, customer_id: str) -> None:
    attrs = dict(DEMO["customer", customer_id], legal_name="Newco Limited", parent=None)
    first = connector.write([Upsert("customer", "HUB-42", attrs)])
    assert first[0].ok and first[0].hub_id == "HUB-42" and first[0].external_id
    second = connector.write([Upsert("customer", "HUB-42", dict(attrs, legal_name="Newco Group Limited"))])
    assert second[0].external_id == first[0].external_id
    record = emulator.store["customer"][first[0].external_id]
    assert (record["companyName"], record["externalId"]) == ("Newco Group Limited", "HUB-42")
    changes = [c for p in connector.read_changes("customer", None) for c in p.changes]
    assert changes[-1].external_id == first[0].external_id
    assert changes[-1].attributes == dict(attrs, legal_name="Newco Group Limited")


def test_write_failures(base_url: str, credentials: None, emulator: Emulator) -> None:
    # One write at a time, so which record meets each injected fault is known (concurrent: test_concurrent_writes).
    connector = NetSuiteConnector(base_url=base_url, config={**CONFIG, "concurrency": 1})
    upserts = [Upsert("customer", f"HUB-{n}", {"legal_name": f"Client {n}"}) for n in range(3)]
    emulator.inject("unavailable")
    results = connector.write(upserts)
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (True, False), (True, False)]
    assert results[0].details["status"] == 503
    emulator.inject("throttle")
    results = connector.write([Upsert("customer", "HUB-9", {"legal_name": "Nine"}), *upserts])
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 4
    assert results[3].details["retry_after"] == 5.0
    assert emulator.count("PUT", "/services/rest/record/v1/customer/eid:") == 4  # 3 + the throttled one
    (unknown,) = connector.write([Upsert("projectTask", "HUB-T", {})])
    assert (unknown.ok, unknown.retryable) == (False, False) and "projectTask" in unknown.error


def test_write_by_internal_id_updates_and_stamps_the_hub_id(connector: NetSuiteConnector,
                                                            emulator: Emulator) -> None:
    first, second = sorted(emulator.store["customer"])[:2]
    before = len(emulator.store["customer"])
    (result,) = connector.write([Upsert("customer", "HUB-1", {"legal_name": "Newco Limited"}, external_id=first)])
    assert (result.ok, result.created, result.external_id) == (True, False, first)
    record = emulator.store["customer"][first]
    assert (record["companyName"], record["externalId"]) == ("Newco Limited", "HUB-1")
    assert connector.held_hub_id(record) == "HUB-1"
    assert connector.held_hub_id(emulator.store["customer"][second]) is None
    assert emulator.count("PATCH", f"/services/rest/record/v1/customer/{first}") == 1
    again = connector.write([Upsert("customer", "HUB-1", {"legal_name": "Newco Group Limited"})])
    assert again[0].external_id == first and emulator.store["customer"][first]["companyName"] == "Newco Group Limited"
    emulator.delete("customer", second)
    (gone,) = connector.write([Upsert("customer", "HUB-2", {"legal_name": "Gone Limited"}, external_id=second)])
    assert (gone.ok, gone.retryable, gone.details["status"]) == (False, False, 404)
    assert "NONEXISTENT_ID" in gone.error
    assert len(emulator.store["customer"]) == before - 1
    assert not [r for r in emulator.store["customer"].values() if r.get("externalId") == "HUB-2"]


def test_a_record_edited_mid_pull_skips_none_of_the_others(connector: NetSuiteConnector, emulator: Emulator) -> None:
    everyone = set(emulator.store["customer"])
    pages = connector.read_changes("customer", None)
    first = next(pages)
    # Users edit records already read: each moves to the end of the window, every later row one place back.
    for change in first.changes[:3]:
        emulator.touch("customer", change.external_id, companyName=f"{change.attributes['legal_name']} (edited)")
    read = [c.external_id for c in first.changes] + [c.external_id for p in pages for c in p.changes]

    assert set(read) == everyone
    # read again, as edited, at the end (edits of one second share its stamp: in id order among themselves)
    assert sorted(read[-3:]) == sorted(c.external_id for c in first.changes[:3])


def _tie(emulator: Emulator, record_type: str, record_ids: list[str], stamp: str) -> None:
    """Give records one lastModifiedDate (edited in place, and reported), so they share a SuiteQL stamp."""
    for record_id in record_ids:
        emulator.store[record_type][record_id]["lastModifiedDate"] = stamp
        emulator.store[record_type].changed(record_id)


def test_a_record_at_the_last_stamp_read_edited_mid_pull_skips_none_of_the_others(
        base_url: str, credentials: None, emulator: Emulator) -> None:
    """A page ends among records sharing one second. One of them, read already, is edited before the next page
    is asked for: it moves to the end, and the unread records of that second each move one place up. Every
    record is still read, the edited one again at its new place."""
    connector = NetSuiteConnector(base_url=base_url, config={**CONFIG, "page_size": 5})
    everyone = set(emulator.store["customer"])
    tied = sorted(emulator.store["customer"], key=int)[:9]
    _tie(emulator, "customer", tied, "2020-01-01T00:00:00Z")  # before every other record: the first pages
    pages = connector.read_changes("customer", None)
    first = next(pages)
    assert [c.external_id for c in first.changes] == tied[:5]
    emulator.touch("customer", tied[1], companyName="Edited Ltd")
    rest = [c.external_id for p in pages for c in p.changes]

    assert set(tied[:5]) | set(rest) == everyone
    assert rest[:4] == tied[5:]  # the second's unread records first, none skipped
    assert rest[-1] == tied[1] and len(rest) == len(everyone) - 5 + 1  # the edited one read again, no other twice
    sent = [r for r in emulator.requests if r.path == "/services/rest/query/v1/suiteql"]
    assert {r.query["offset"] for r in sent} == {"0"}  # each page starts after the last row read, not at an offset


def test_more_records_at_one_stamp_than_a_page_holds_are_all_read(connector: NetSuiteConnector,
                                                                    emulator: Emulator) -> None:
    table = emulator.store["customer"]
    _tie(emulator, "customer", list(table)[:45], "2026-06-01T10:00:00Z")  # 45 rows at one second, pages of 20

    pages = list(connector.read_changes("customer", None))
    read = [c.external_id for p in pages for c in p.changes]

    assert sorted(read, key=int) == sorted(table, key=int)  # each once
    assert [len(p.changes) for p in pages] == [20, 20, 10]
    assert emulator.count("POST", "/services/rest/query/v1/suiteql") == 3


def test_more_deletions_at_one_stamp_than_a_page_holds_are_all_read(base_url: str, credentials: None,
                                                                      emulator: Emulator) -> None:
    connector = NetSuiteConnector(base_url=base_url, config={**CONFIG, "page_size": 3})
    gone = sorted(emulator.store["customer"], key=int)[:8]
    for record_id in reversed(gone):
        emulator.delete("customer", record_id)
    at = emulator.deleted[0][3]
    emulator.deleted[:] = [(*entry[:3], at) for entry in emulator.deleted]  # all in one second

    pages = list(connector.read_deleted("customer", None))

    assert [c.external_id for p in pages for c in p.changes] == gone  # in id order, each once
    assert [len(p.changes) for p in pages] == [3, 3, 2]
    assert mark(pages[-1].cursor) == at.isoformat()


def test_what_a_write_leaves_is_what_reading_the_record_back_gives(connector: NetSuiteConnector) -> None:
    fields = {"legal_name": "Northwind Traders Ltd", "website_domain": "northwind.example", "tax_id": "GB123",
              "country": "GB", "billing_street": "1 High St", "billing_city": "Leeds", "billing_postcode": "LS1",
              "billing_country": "GB", "currency": "GBP", "display_name": "Northwind"}
    upsert = Upsert("customer", "HUB-77", fields)
    [written] = connector.write([upsert])

    [read] = [c for p in connector.read_changes("customer", None) for c in p.changes
              if c.external_id == written.external_id]

    assert connector.written_attributes(upsert) == read.attributes
    assert read.attributes["status"] == "active" and "display_name" not in read.attributes  # not a customer field


def test_the_account_s_local_times_are_read_as_they_were_written_and_a_malformed_one_is_refused(
        connector: NetSuiteConnector) -> None:
    # the account's own clock, across a change of its offset (ambiguous hour: the first of the two, fold 0)
    for text in ("2026-03-08T01:59:59", "2026-03-08T03:00:00", "2026-11-01T01:30:00", "2026-12-31T23:59:59"):
        expected = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=connector.timezone, fold=0)
        assert connector._from_local(text) == expected.astimezone(UTC)
    for bad in ("2026-12-07T25:00:00", "2026-12-07 23:43:13", "07/12/2026 23:43", ""):
        with pytest.raises(ValueError):
            connector._from_local(bad)
