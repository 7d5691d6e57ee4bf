"""A pull stops at its time budget and the next one goes on: a first read of a large object takes several runs,
each well within the task's time limit, and ends (releasing what it held) only once read through and placed."""

import pytest
from django.test import override_settings

from canonical.models import Client, SourceRecord
from canonical.services import landing
from connectors.models import RunStatus, Stream, SyncRun
from connectors.services.inbound import stream_sync
from connectors.services.streams import streams_ensure
from connectors.tasks import inbound_stream_sync_task
from tests.connectors.services.test_inbound import ListPlatform, records
from tests.factories.canonical import ConnectedSystemFactory


@pytest.fixture
def stream(db):
    return Stream.objects.create(system=ConnectedSystemFactory(key="salesforce"), object_type="Account")


def test_a_run_past_its_budget_stops_reading_and_the_next_goes_on(stream):
    partial = stream_sync(stream=stream, connector=ListPlatform(records(6)), budget_s=0)

    stream.refresh_from_db()
    # One page read (its cursor moved: enough), and what it landed placed (a chunk: enough); no deletions read;
    # not a success.
    assert (partial.status, partial.pages, partial.received) == (RunStatus.PARTIAL, 1, 2)
    assert SourceRecord.objects.count() == Client.objects.count() == 2
    assert stream.last_success_at is None and stream.cursor

    runs = [stream_sync(stream=stream, connector=ListPlatform(records(6), deleted=["001000"]), budget_s=0)
            for _ in range(4)]

    # Each run read a page (the boundary record again, then the next one), landing as a first read does.
    assert [(r.status, r.received, r.created) for r in runs] == [(RunStatus.PARTIAL, 2, 1)] * 4
    assert SourceRecord.objects.count() == Client.objects.count() == 6
    done = stream_sync(stream=stream, connector=ListPlatform(records(6), deleted=["001000"]))
    stream.refresh_from_db()
    # Deletions are read by the run that reads the changes through (none by those cut short).
    assert done.status == RunStatus.SUCCEEDED and done.deleted == 1 and not any(r.deleted for r in runs)
    assert stream.last_success_at is not None


def test_placing_past_the_budget_goes_on_a_chunk_a_run(stream, monkeypatch):
    monkeypatch.setattr(landing, "PLACE_CHUNK", 2)
    runs = []
    while not runs or runs[-1].status != RunStatus.SUCCEEDED:
        runs.append(stream_sync(stream=stream, connector=ListPlatform(records(7), page_size=7), budget_s=0))
        assert len(runs) < 10
        placed = Client.objects.count()
        assert placed == min(2 * len(runs), 7) or runs[-1].status == RunStatus.SUCCEEDED

    # The first run read the page and placed a chunk; each next one placed a chunk (the last found none left).
    assert [r.status for r in runs] == [RunStatus.PARTIAL] * (len(runs) - 1) + [RunStatus.SUCCEEDED]
    assert 4 <= len(runs) <= 5 and Client.objects.count() == SourceRecord.objects.count() == 7
    assert Stream.objects.get(pk=stream.pk).last_success_at is not None


def test_the_task_goes_on_at_once_until_the_read_is_through(netsuite_target, monkeypatch):
    emulator, system = netsuite_target
    system.config = {**system.config, "page_size": 1}
    system.save()
    stream = next(s for s in streams_ensure(system=system) if s.object_type == "customer")
    continued = []
    monkeypatch.setattr(inbound_stream_sync_task, "delay", lambda *args: continued.append(args))

    with override_settings(CONCORD_RUN_BUDGET_S=0):
        inbound_stream_sync_task.apply(args=[str(stream.pk)]).get()
        for _ in range(100):  # what the broker would hand a worker next
            if not continued:
                break
            inbound_stream_sync_task.apply(args=list(continued.pop())).get()

    runs = list(SyncRun.objects.filter(stream=stream).order_by("started_at").values_list("status", flat=True))
    customers = len(emulator.store["customer"])
    # A run goes on past its budget until its cursor has moved (a page of records of a later second): so many runs
    assert customers >= 2 and len(runs) > 2
    assert runs[:-1] == [RunStatus.PARTIAL] * (len(runs) - 1) and runs[-1] == RunStatus.SUCCEEDED
    staged = SourceRecord.objects.filter(system=system, object_type="customer")
    assert staged.count() == customers and not staged.filter(golden_record_id__isnull=True).exists()
    assert Stream.objects.get(pk=stream.pk).last_success_at is not None


def test_the_budget_leaves_room_within_the_task_time_limit():
    from django.conf import settings

    assert 0 < settings.CONCORD_RUN_BUDGET_S <= settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
