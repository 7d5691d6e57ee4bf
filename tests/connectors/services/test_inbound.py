"""Inbound sync semantics, through a platform held in memory behind the Connector interface.

(The platforms' own connectors are tested against their HTTP emulators in tests/connectors/<platform>/.)
"""

import datetime as dt
import threading

import pytest
from django.db import OperationalError, connection

from canonical.models import ChangeEvent, Client, SourceRecord
from canonical.services.matching import match_lock_key
from connectors.base import Change, Connector, Page
from connectors.errors import Unavailable
from connectors.models import RunStatus, Stream, SyncRun
from connectors.services import inbound
from connectors.services.inbound import ABANDONED, StreamBusy, _lock_key, stream_sync
from tests.factories.canonical import ConnectedSystemFactory

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


class ListPlatform(Connector):
    """A platform whose records are a list, served in pages of ``page_size`` ordered by modification time."""

    kind = "salesforce"
    objects = {"Account": "client"}

    def __init__(self, records, *, page_size=2, fail_after_pages=None, deleted=()):
        super().__init__(base_url="http://platform.invalid", config={})
        self.records, self.page_size = records, page_size
        self.fail_after_pages, self.deleted = fail_after_pages, deleted
        self.pages_served = 0

    def read_changes(self, object_type, cursor):
        rows = sorted((r for r in self.records if cursor is None or r["modified"].isoformat() >= cursor),
                      key=lambda r: (r["modified"], r["Id"]))
        for start in range(0, len(rows), self.page_size):
            if self.fail_after_pages is not None and self.pages_served >= self.fail_after_pages:
                raise Unavailable("platform went away")
            chunk = rows[start:start + self.page_size]
            self.pages_served += 1
            yield Page([Change("Account", r["Id"], "client", {"legal_name": r["Name"], "country": "GB"},
                               {"Id": r["Id"], "Name": r["Name"]}, r["modified"]) for r in chunk],
                       cursor=chunk[-1]["modified"].isoformat(), has_more=start + self.page_size < len(rows))

    def read_deleted(self, object_type, cursor):
        if self.deleted:
            yield Page([Change("Account", i, "client", {}, {}, T0, deleted=True) for i in self.deleted],
                       cursor=T0.isoformat(), has_more=False)

    def write(self, upserts):
        return []

    def parse_record(self, object_type, record):
        return Change("Account", record["Id"], "client", {"legal_name": record["Name"], "country": "GB"},
                      dict(record), T0)


def records(n):
    names = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum"]
    return [{"Id": f"001{i:03d}", "Name": f"{names[i % 7]} Holdings {i} Limited",
             "modified": T0 + dt.timedelta(minutes=i)} for i in range(n)]


@pytest.fixture
def stream(db):
    return Stream.objects.create(system=ConnectedSystemFactory(key="salesforce"), object_type="Account")


def test_a_full_pull_stages_matches_and_moves_the_cursor(stream):
    run = stream_sync(stream=stream, connector=ListPlatform(records(5)))

    stream.refresh_from_db()
    assert (run.status, run.pages, run.received, run.created, run.unchanged) == (RunStatus.SUCCEEDED, 3, 5, 5, 0)
    assert stream.cursor == (T0 + dt.timedelta(minutes=4)).isoformat()
    assert Client.objects.count() == 5 and SourceRecord.objects.count() == 5


def test_a_page_seen_twice_changes_nothing(stream):
    stream_sync(stream=stream, connector=ListPlatform(records(4)))
    events, history = ChangeEvent.objects.count(), SourceRecord.history.count()

    again = stream_sync(stream=stream, connector=ListPlatform(records(4)), full=True)

    assert (again.received, again.created, again.updated, again.unchanged) == (4, 0, 0, 4)
    assert (ChangeEvent.objects.count(), SourceRecord.history.count()) == (events, history)


def test_a_crash_mid_run_resumes_at_the_last_committed_page(stream):
    with pytest.raises(Unavailable):
        stream_sync(stream=stream, connector=ListPlatform(records(6), fail_after_pages=2))
    stream.refresh_from_db()
    failed = SyncRun.objects.get()
    after_crash = (stream.cursor, SourceRecord.objects.count(), Client.objects.count(), failed.status, failed.pages)

    resumed = stream_sync(stream=stream, connector=ListPlatform(records(6)))

    # A first read lands its pages and places them when it ends: the crash left 4 landed, none placed yet, and
    # the next run (no longer a first read: it matches as it reads) places them too.
    assert after_crash == ((T0 + dt.timedelta(minutes=3)).isoformat(), 4, 0, RunStatus.FAILED, 2)
    # The overlap re-reads the boundary record (unchanged), then the rest: nothing lost, nothing twice.
    assert (resumed.received, resumed.created, resumed.unchanged) == (3, 2, 1)
    assert SourceRecord.objects.count() == Client.objects.count() == 6


def test_a_first_read_places_what_it_landed_as_it_goes(stream, monkeypatch):
    monkeypatch.setattr(inbound, "PLACE_EVERY", 4)
    with pytest.raises(Unavailable):
        stream_sync(stream=stream, connector=ListPlatform(records(8), fail_after_pages=3))

    # 6 landed in 3 pages: the first 4 placed after the second page, the last 2 wait for the next run
    assert (SourceRecord.objects.count(), Client.objects.count()) == (6, 4)
    assert SourceRecord.objects.filter(golden_record_id__isnull=True).count() == 2
    stream_sync(stream=stream, connector=ListPlatform(records(8)))
    assert SourceRecord.objects.count() == Client.objects.count() == 8


def analyzed(table: str) -> int:
    """How many times the table's statistics were taken by ANALYZE (not autovacuum)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, visible now
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_takes_the_statistics_of_what_it_wrote_once_placed(monkeypatch):
    tables = ["canonical_sourcerecord", "canonical_matchrecord", "canonical_matchdecision", "canonical_client"]
    system = ConnectedSystemFactory(key="salesforce")
    bulk, small = (Stream.objects.create(system=system, object_type=o) for o in ("Account", "Contact"))
    monkeypatch.setattr(inbound, "ANALYZE_AFTER", 6)  # a bulk load's thousands, six here
    monkeypatch.setattr(inbound, "PLACE_EVERY", 4)  # placed as the read goes, and the rest at its end
    before = [analyzed(table) for table in tables]

    stream_sync(stream=bulk, connector=ListPlatform(records(8)))
    after_bulk = [analyzed(table) for table in tables]
    others = [{**r, "Id": f"c{r['Id']}"} for r in records(3)]
    stream_sync(stream=small, connector=ListPlatform(others))  # a first read too, not a bulk load

    assert SourceRecord.objects.filter(golden_record_id__isnull=True).count() == 0
    assert [a - b for a, b in zip(after_bulk, before, strict=True)] == [1, 1, 1, 1]  # once, when all was placed
    assert [analyzed(table) for table in tables] == after_bulk


def test_a_run_cut_short_is_ended_as_abandoned_by_the_next_one(stream):
    # given a run whose worker died: it never finished
    cut_short = SyncRun.objects.create(stream=stream, pages=1)

    resumed = stream_sync(stream=stream, connector=ListPlatform(records(2)))

    cut_short.refresh_from_db()
    assert (cut_short.status, cut_short.error, cut_short.errors) == (RunStatus.FAILED, ABANDONED, 1)
    assert cut_short.finished_at is not None and cut_short.finished_at <= resumed.started_at + dt.timedelta(seconds=1)
    assert resumed.status == RunStatus.SUCCEEDED


def test_a_second_puller_of_the_same_stream_is_refused(stream, django_db_blocker):
    taken, release = threading.Event(), threading.Event()

    def hold_lock():
        with django_db_blocker.unblock():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(stream)])
                taken.set()
                release.wait(10)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(stream)])
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    taken.wait(10)
    try:
        with pytest.raises(StreamBusy):
            stream_sync(stream=stream, connector=ListPlatform(records(2)))
    finally:
        release.set()
        holder.join(10)

    assert SyncRun.objects.count() == 0
    assert stream_sync(stream=stream, connector=ListPlatform(records(2))).created == 2


def test_deletes_mark_the_crosswalk_and_deactivate_a_record_left_without_sources(stream):
    stream_sync(stream=stream, connector=ListPlatform(records(2)))

    run = stream_sync(stream=stream, connector=ListPlatform(records(2), deleted=["001000"]))

    gone = SourceRecord.objects.get(external_id="001000")
    client = Client.objects.get(pk=gone.golden_record_id)
    assert run.deleted == 1 and gone.is_deleted
    assert client.status == "inactive"
    assert ChangeEvent.objects.filter(record_id=client.pk, operation="deactivated").count() == 1
    assert Client.objects.filter(status="active").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_page_read_again_unchanged_takes_no_matching_lock(django_db_blocker):
    # given a stream pulled once, and another worker deciding clients (it holds their matching lock)
    stream = Stream.objects.create(system=ConnectedSystemFactory(key="salesforce"), object_type="Account")
    stream_sync(stream=stream, connector=ListPlatform(records(4)))
    taken, release = threading.Event(), threading.Event()

    def decide_elsewhere():
        with django_db_blocker.unblock():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [match_lock_key("client")])
                taken.set()
                release.wait(20)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [match_lock_key("client")])
            connection.close()

    holder = threading.Thread(target=decide_elsewhere)
    holder.start()
    taken.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        # when the same records are read again: they pass without waiting for the lock
        again = stream_sync(stream=stream, connector=ListPlatform(records(4)), full=True)
        # but a page that changes a record waits for it (here: gives up after the lock timeout)
        renamed = records(4)
        renamed[3]["Name"] = "Adatum Holdings 3 Renamed Limited"
        with pytest.raises(OperationalError):
            stream_sync(stream=stream, connector=ListPlatform(renamed), full=True)
    finally:
        release.set()
        holder.join(20)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert (again.status, again.received, again.unchanged, again.created, again.updated) == (
        RunStatus.SUCCEEDED, 4, 4, 0, 0)
    assert stream_sync(stream=stream, connector=ListPlatform(renamed), full=True).updated == 1
