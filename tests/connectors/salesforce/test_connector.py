"""SalesforceConnector end to end against the emulator: deltas, overlap, deletions, writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Upsert
from connectors.errors import ConnectorError, Rejected, Unavailable
from connectors.salesforce.connector import ResyncRequired, SalesforceConnector
from connectors.salesforce.emulator import Emulator, make_app
from connectors.salesforce.emulator.store import sf_time
from connectors.salesforce.timestamps import parse_sf_datetime

from .conftest import CONFIG, START, FakeClock

API = "/services/data/v62.0"


def _latest(emulator: Emulator, object_type: str) -> str:
    return max(parse_sf_datetime(r["SystemModstamp"]) for r in emulator.store[object_type].values()).isoformat()


def test_full_read_maps_every_record(connector: SalesforceConnector, emulator: Emulator) -> None:
    pages = list(connector.read_changes("Opportunity", None))
    assert len(pages) == 1 and pages[0].has_more is False
    changes = pages[0].changes
    assert len(changes) == 100
    assert [c.modified_at for c in changes] == sorted(c.modified_at for c in changes)
    start = START.isoformat()  # a full read counts as a sweep started when it started
    assert pages[0].cursor == f"{_latest(emulator, 'Opportunity')}|{start}|{start}|{start}"
    first = changes[0]
    record = emulator.store["Opportunity"][first.external_id]
    assert (first.object_type, first.entity_type, first.deleted) == ("Opportunity", "engagement", False)
    assert first.attributes["client"] == {"object_type": "Account", "external_id": record["AccountId"]}
    assert "attributes" not in first.payload and first.payload["Name"] == record["Name"]
    assert first.modified_at == parse_sf_datetime(record["SystemModstamp"])


def test_paging_follows_next_records_url(serve_wsgi, credentials) -> None:
    emulator = make_app(clients=120)
    conn = SalesforceConnector(base_url=serve_wsgi(emulator), config={**CONFIG, "batch_size": 200})
    pages = list(conn.read_changes("Contract", None))
    total = len(emulator.store["Contract"])
    assert [len(p.changes) for p in pages] == [200] * (total // 200) + [total % 200]
    assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
    assert [p.cursor.split("|")[0] for p in pages] == [max(c.modified_at for c in p.changes).isoformat()
                                                       for p in pages]
    assert len({c.external_id for p in pages for c in p.changes}) == total
    assert len(emulator.requests_to("GET", f"{API}/query")) == len(pages)


def test_delta_reads_from_the_mark_and_sweeps_back_for_late_commits(connector: SalesforceConnector,
                                                                     emulator: Emulator, clock: FakeClock) -> None:
    connector = SalesforceConnector(base_url=connector.base_url, config={**CONFIG, "sweep_s": 60}, clock=clock)
    full = list(connector.read_changes("Account", None))[-1]
    boundary, start = full.changes[-1], START.isoformat()
    # A full read counts as a sweep started when it started (START): no sweep due for a minute (sweep_s).
    assert full.cursor == f"{boundary.modified_at.isoformat()}|{start}|{start}|{start}"
    # Within the minute, reads start at the mark (its second included: stamps are coarse).
    again = list(connector.read_changes("Account", full.cursor))
    assert [[c.external_id for c in p.changes] for p in again] == [[boundary.external_id]]
    assert again[0].cursor == full.cursor
    account, other, late = sorted(emulator.store["Account"])[7:10]
    emulator.touch("Account", account, Industry="Aerospace")
    page = next(connector.read_changes("Account", full.cursor))
    assert [(c.external_id, c.attributes["industry"]) for c in page.changes] == [
        (boundary.external_id, boundary.attributes["industry"]), (account, "Aerospace")]
    assert page.cursor == f"2026-11-20T09:00:00+00:00|{start}|{start}|{start}"  # the mark, first read at START
    # A record stamped in the mark's second after the read that set it: the next read, within settle_s, reads it.
    clock.advance(1)
    emulator.touch("Account", other, Industry="Mining")
    emulator.store["Account"][other]["SystemModstamp"] = sf_time(START)
    emulator.store["Account"].changed(other)
    page = next(connector.read_changes("Account", page.cursor))
    assert [c.external_id for c in page.changes] == [account, other]
    soql = emulator.requests_to("GET", f"{API}/query")[-1].query["q"]
    assert "WHERE SystemModstamp >= 2026-11-20T09:00:00Z ORDER BY SystemModstamp, Id" in soql
    # Once settled (3 s after the read that set the mark), reads start after the mark's second: nothing read again.
    clock.advance(3)
    quiet = next(connector.read_changes("Account", page.cursor))
    assert quiet.changes == [] and quiet.cursor == page.cursor
    soql = emulator.requests_to("GET", f"{API}/query")[-1].query["q"]
    assert "WHERE SystemModstamp > 2026-11-20T09:00:00Z ORDER BY" in soql
    clock.advance(26)
    emulator.touch("Account", other, Industry="Fishing")
    page = next(connector.read_changes("Account", page.cursor))
    assert [c.external_id for c in page.changes] == [other]
    # A record stamped before the mark that commits only now (a late commit): reads from the mark miss it ...
    clock.current = START + timedelta(seconds=45)
    record = emulator.touch("Account", late, Industry="Fishing")
    record["SystemModstamp"] = record["LastModifiedDate"] = sf_time(START + timedelta(seconds=10))
    emulator.store["Account"].changed(late)
    page = next(connector.read_changes("Account", page.cursor))
    assert page.changes == []
    # ... and the next sweep, a minute after the last one, reads it (after the delta, empty: settled).
    clock.current = START + timedelta(seconds=60)
    pages = list(connector.read_changes("Account", page.cursor))
    assert pages[0].changes == [] and late in [c.external_id for c in pages[1].changes]
    page = pages[-1]
    assert page.cursor == (f"2026-11-20T09:00:30+00:00|2026-11-20T09:00:30+00:00|{clock.current.isoformat()}|"
                           f"{(START + timedelta(seconds=30)).isoformat()}")
    # With no overlap, a sweep reads only what is at or after the cursor second (a mark with no sweep recorded:
    # the delta, then a sweep).
    narrow = SalesforceConnector(base_url=connector.base_url, config={**CONFIG, "overlap_s": 0}, clock=clock)
    assert [[c.external_id for c in p.changes] for p in narrow.read_changes("Account", "2026-11-20T09:00:30+00:00")
            ] == [[other], [other]]


def test_a_malformed_cursor_is_refused(connector: SalesforceConnector) -> None:
    for cursor in ("yesterday", "2026-11-20T09:00:00+00:00|soon|2026-11-20T09:00:00+00:00"):
        with pytest.raises(Rejected):
            next(connector.read_changes("Account", cursor))


def test_read_deleted(connector: SalesforceConnector, emulator: Emulator, clock: FakeClock) -> None:
    first = list(connector.read_deleted("Account", None))
    assert [(len(p.changes), p.cursor, p.has_more) for p in first] == [(0, "2026-11-20T09:00:00+00:00", False)]
    victim = sorted(emulator.store["Account"])[2]
    clock.advance(10)
    emulator.delete("Account", victim)
    clock.advance(60)
    page = next(connector.read_deleted("Account", first[0].cursor))
    assert [(c.external_id, c.deleted, c.entity_type, c.modified_at) for c in page.changes] == [
        (victim, True, "client", datetime(2026, 11, 20, 9, 0, 10, tzinfo=UTC))]
    assert page.cursor == "2026-11-20T09:01:00+00:00"
    assert next(connector.read_deleted("Account", page.cursor)).changes == []
    # The deleted row no longer comes from the SOQL delta (query excludes IsDeleted rows).
    assert victim not in {c.external_id for p in connector.read_changes("Account", None) for c in p.changes}


def test_read_deleted_past_the_recycle_bin_needs_a_resync(connector: SalesforceConnector, emulator: Emulator,
                                                         clock: FakeClock) -> None:
    cursor = next(connector.read_deleted("Account", None)).cursor
    clock.advance(600)
    emulator.purge_recycle_bin()
    with pytest.raises(ResyncRequired, match="full resync"):
        list(connector.read_deleted("Account", cursor))
    with pytest.raises(ResyncRequired):
        list(connector.read_deleted("Account", "2026-09-01T00:00:00+00:00"))  # older than Salesforce's window
    assert issubclass(ResyncRequired, ConnectorError) and not ResyncRequired.retryable


def test_write_creates_then_updates(connector: SalesforceConnector, emulator: Emulator) -> None:
    parent = sorted(emulator.store["Account"])[0]
    upserts = [Upsert("Account", "HUB-1", {"display_name": "Acme", "legal_name": "Acme Ltd", "country": "GB",
                                           "parent": {"object_type": "Account", "external_id": parent}}),
               Upsert("client", "HUB-2", {"display_name": "Beta", "website_domain": "beta.io"})]
    created = connector.write(upserts)
    assert [(r.hub_id, r.ok, r.created) for r in created] == [("HUB-1", True, True), ("HUB-2", True, True)]
    record = emulator.store["Account"][created[0].external_id]
    assert (record["Name"], record["ParentId"], record["Hub_Id__c"]) == ("Acme", parent, "HUB-1")
    updated = connector.write([Upsert("Account", "HUB-1", {"display_name": "Acme Two"})])
    assert [(r.ok, r.created, r.external_id) for r in updated] == [(True, False, created[0].external_id)]
    assert emulator.store["Account"][created[0].external_id]["Name"] == "Acme Two"
    assert len(emulator.store["Account"]) == 52


def test_write_chunks_by_200_and_reports_per_record(connector: SalesforceConnector, emulator: Emulator) -> None:
    upserts = [Upsert("Account", f"HUB-{i}", {"display_name": f"Client {i}"}) for i in range(450)]
    emulator.faults.inject("partial_lock")
    results = connector.write(upserts)
    calls = emulator.requests_to("PATCH", f"{API}/composite/sobjects/Account/Hub_Id__c")
    assert [len(c.body["records"]) for c in calls] == [200, 200, 50]
    assert [r.hub_id for r in results] == [u.hub_id for u in upserts]
    failed = [r for r in results if not r.ok]
    assert [r.hub_id for r in failed] == [f"HUB-{i}" for i in range(1, 200, 2)]  # the first call's 2nd, 4th...
    assert all(r.retryable and r.error.startswith("UNABLE_TO_LOCK_ROW") for r in failed)
    assert len(emulator.store["Account"]) == 50 + 350


def test_write_duplicate_is_not_retryable_and_mixed_objects(connector: SalesforceConnector,
                                                            emulator: Emulator) -> None:
    account = sorted(emulator.store["Account"])[0]
    emulator.faults.inject("partial_batch")
    results = connector.write([
        Upsert("Account", "HUB-A", {"display_name": "A"}), Upsert("Account", "HUB-B", {"display_name": "B"}),
        Upsert("Opportunity", "HUB-E", {"name": "Deal", "status": "active", "start_date": "2026-12-01",
                                        "client": {"object_type": "Account", "external_id": account}}),
        Upsert("Widget", "HUB-W", {}),
    ])
    assert [(r.hub_id, r.ok, r.retryable) for r in results] == [
        ("HUB-A", True, False), ("HUB-B", False, False), ("HUB-E", True, False), ("HUB-W", False, False)]
    assert results[1].error.startswith("DUPLICATE_VALUE") and "Widget" in results[3].error
    deal = emulator.store["Opportunity"][results[2].external_id]
    assert (deal["StageName"], deal["IsWon"], deal["CloseDate"], deal["AccountId"]) == (
        "Closed Won", True, "2026-12-01", account)


def test_transient_failures_surface_as_connector_errors(connector: SalesforceConnector,
                                                        emulator: Emulator) -> None:
    emulator.faults.inject("malformed")
    with pytest.raises(Unavailable):
        list(connector.read_changes("Account", None))
    emulator.faults.inject("expire_token")
    assert len(next(connector.read_changes("Account", None)).changes) == 50  # re-authenticated transparently
    with pytest.raises(ConnectorError):
        list(connector.read_changes("Account", "yesterday"))


def test_write_by_salesforce_id_updates_and_stamps_the_hub_id(connector: SalesforceConnector,
                                                              emulator: Emulator) -> None:
    first, second, third = sorted(emulator.store["Account"])[:3]
    (alone,) = connector.write([Upsert("Account", "HUB-1", {"display_name": "Acme"}, external_id=first)])
    assert (alone.ok, alone.created, alone.external_id) == (True, False, first)
    assert [r.path for r in emulator.requests_to("PATCH", API)] == [f"{API}/sobjects/Account/{first}"]
    account = emulator.store["Account"][first]
    assert (account["Name"], account["Hub_Id__c"]) == ("Acme", "HUB-1")
    results = connector.write([Upsert("Account", "HUB-2", {"display_name": "Beta"}, external_id=second),
                               Upsert("Account", "HUB-1", {"display_name": "Acme Two"}),
                               Upsert("client", "HUB-3", {"display_name": "Gamma"}, external_id=third)])
    assert [(r.hub_id, r.ok, r.created, r.external_id) for r in results] == [
        ("HUB-2", True, False, second), ("HUB-1", True, False, first), ("HUB-3", True, False, third)]
    (update,) = [r for r in emulator.requests_to("PATCH", API) if r.path == f"{API}/composite/sobjects"]
    assert [(r["id"], r["Hub_Id__c"]) for r in update.body["records"]] == [(second, "HUB-2"), (third, "HUB-3")]
    assert emulator.store["Account"][first]["Name"] == "Acme Two"  # the hub's id now finds it
    assert len(emulator.store["Account"]) == 50
    assert connector.held_hub_id(emulator.store["Account"][third]) == "HUB-3"
    assert connector.held_hub_id({"Id": first, "hub_id": "HUB-9"}) == "HUB-9"
    assert connector.held_hub_id(emulator.store["Account"][sorted(emulator.store["Account"])[4]]) is None


def test_write_by_salesforce_id_never_creates(connector: SalesforceConnector, emulator: Emulator) -> None:
    first, second = sorted(emulator.store["Account"])[:2]
    emulator.delete("Account", first)
    (gone,) = connector.write([Upsert("Account", "HUB-1", {"display_name": "Acme"}, external_id=first)])
    assert (gone.ok, gone.retryable, gone.external_id) == (False, False, first)
    assert gone.error.startswith("ENTITY_IS_DELETED") and gone.details["errors"][0]["errorCode"] == "ENTITY_IS_DELETED"
    both = connector.write([Upsert("Account", "HUB-1", {"display_name": "Acme"}, external_id=first),
                            Upsert("Account", "HUB-2", {"display_name": "Beta"}, external_id=second)])
    assert [(r.ok, r.retryable) for r in both] == [(False, False), (True, False)]
    assert both[0].error.startswith("ENTITY_IS_DELETED")
    (unknown,) = connector.write([Upsert("Account", "HUB-3", {"display_name": "C"}, external_id="001000000000000AAA")])
    assert not unknown.ok and unknown.error.startswith("NOT_FOUND")
    assert len(emulator.store["Account"]) == 50
    assert not [r for r in emulator.store["Account"].values() if r["Hub_Id__c"] in ("HUB-1", "HUB-3")]
