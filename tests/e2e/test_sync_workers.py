"""Salesforce and NetSuite synced through real Celery workers: loads and deltas arrive, a worker killed mid-pull
loses and duplicates nothing, two subscribed platforms settle without a loop, and one stream is pulled by
one worker at a time."""

import os
import signal
from collections import Counter

import pytest
from django.db.models import Max

from canonical.models import ChangeEvent, Client, SourceRecord
from connectors.models import Delivery, DeliveryStatus, RunStatus, Stream, SyncRun
from connectors.services.inbound import ABANDONED
from connectors.tasks import inbound_schedule_task, inbound_stream_sync_task, outbound_relay_task
from tests.e2e.conftest import Platforms, Workers, wait_for

pytestmark = pytest.mark.worker


def pulled_since(platforms: Platforms, last_run_ids: set, *, streams: list[Stream] | None = None) -> list[SyncRun]:
    """Wait until each stream has a finished run not in ``last_run_ids``; returns those runs."""

    def finished() -> list[SyncRun] | None:
        runs = [SyncRun.objects.filter(stream=s, finished_at__isnull=False).exclude(pk__in=last_run_ids).first()
                for s in streams or platforms.streams()]
        return runs if all(runs) else None

    return wait_for(finished, what="every stream to finish a new run")


def schedule_pull(workers: Workers, platforms: Platforms) -> list[SyncRun]:
    """Run the schedule's pull of every stream in the worker and wait for the runs it started."""
    before = set(SyncRun.objects.values_list("pk", flat=True))
    assert workers.wait(workers.send(inbound_schedule_task)) == ["succeeded"]
    runs = pulled_since(platforms, before)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * len(runs)
    return runs


def relay(workers: Workers) -> None:
    """Relay new golden changes into deliveries in the worker, and wait until every delivery was attempted."""
    assert workers.wait(workers.send(outbound_relay_task)) == ["succeeded"]
    wait_for(lambda: not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists(),
             what="the relayed deliveries to be attempted")


def active_sources(platforms: Platforms, system: str, object_type: str) -> list[str]:
    return sorted(SourceRecord.objects.filter(system=platforms.systems[system], object_type=object_type,
                                              is_deleted=False).values_list("external_id", flat=True))


def golden_of(platforms: Platforms, system: str, external_id: str) -> Client:
    source = SourceRecord.objects.get(system=platforms.systems[system], external_id=external_id)
    return Client.objects.get(pk=source.golden_record_id)


def test_initial_load_then_deltas_arrive_through_the_worker(make_platforms, workers):
    platforms = make_platforms(clients=24)
    salesforce, netsuite = platforms.salesforce, platforms.netsuite
    workers.start()

    schedule_pull(workers, platforms)

    accounts, customers = sorted(salesforce.store["Account"]), sorted(netsuite.store["customer"])
    assert active_sources(platforms, "salesforce", "Account") == accounts
    assert active_sources(platforms, "netsuite", "customer") == customers
    assert not SourceRecord.objects.filter(golden_record_id__isnull=True).exists()
    # 24 clients: 8 in NetSuite only, 8 in Salesforce only, 8 in both (matched into one golden record each).
    assert (len(accounts), len(customers), Client.objects.count()) == (16, 16, 24)

    # given a user's edit in each platform
    account, customer = accounts[0], customers[0]
    salesforce.touch("Account", account, Name="Renamed Display Name")
    netsuite.touch("customer", customer, companyName="Renamed Legal Name Limited")

    # when the schedule pulls again
    runs = {(r.stream.system.key, r.stream.object_type): r for r in schedule_pull(workers, platforms)}

    # then each change is in its golden record, and only the changed records were staged again
    assert golden_of(platforms, "salesforce", account).display_name == "Renamed Display Name"
    assert golden_of(platforms, "netsuite", customer).legal_name == "Renamed Legal Name Limited"
    assert (runs["salesforce", "Account"].created, runs["salesforce", "Account"].updated) == (0, 1)
    assert (runs["netsuite", "customer"].created, runs["netsuite", "customer"].updated) == (0, 1)
    assert Client.objects.count() == 24


def crash_setup(make_platforms) -> tuple[Platforms, Stream, list[str]]:
    """A stream of 100 customers read 10 a page, the only stream the schedule pulls."""
    platforms = make_platforms(clients=150, netsuite_page_size=10)
    stream = platforms.stream("netsuite", "customer")
    Stream.objects.exclude(pk=stream.pk).update(enabled=False)
    return platforms, stream, sorted(platforms.netsuite.store["customer"])


def a_page_committed(stream: Stream) -> SyncRun:
    return wait_for(lambda: SyncRun.objects.filter(stream=stream, pages__gte=1, finished_at__isnull=True).first(),
                    what="the pull to commit a page", every=0.02)


def assert_killed_between_pages(run: SyncRun, customers: list[str]) -> None:
    """The killed run left its committed pages (and the cursor after them); the next run ended it as abandoned."""
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, ABANDONED)
    assert 1 <= run.pages < len(customers) // 10


def assert_each_customer_once(platforms: Platforms, stream: Stream, customers: list[str]) -> None:
    """0 lost: every customer has exactly one active source record. 0 duplicated: no external id twice, and one
    golden record per customer, as a clean run gives."""
    sources = SourceRecord.objects.filter(system=stream.system, object_type="customer")
    assert active_sources(platforms, "netsuite", "customer") == customers
    assert max(Counter(sources.values_list("external_id", flat=True)).values()) == 1
    assert len(set(sources.values_list("golden_record_id", flat=True))) == len(customers)
    assert Client.objects.count() == len(customers)


def test_a_worker_killed_mid_pull_loses_and_duplicates_nothing(make_platforms, workers):
    platforms, stream, customers = crash_setup(make_platforms)
    first = workers.start()
    workers.send(inbound_stream_sync_task, str(stream.pk))

    # when the worker is killed (SIGKILL, its whole process group) once a page has committed
    killed = a_page_committed(stream)
    first.kill()
    # and a new worker runs the schedule
    workers.start()
    assert workers.wait(workers.send(inbound_schedule_task)) == ["succeeded"]
    resumed = pulled_since(platforms, {killed.pk}, streams=[stream])[0]

    # then the killed run stopped between pages, and the new one resumed from its last committed cursor
    assert_killed_between_pages(killed, customers)
    assert killed.cursor_after and resumed.cursor_before == killed.cursor_after
    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.received < len(customers)
    assert_each_customer_once(platforms, stream, customers)


def test_a_pool_process_killed_mid_pull_has_its_task_redelivered(make_platforms, workers):
    platforms, stream, customers = crash_setup(make_platforms)
    worker = workers.start(pool="prefork")
    task_id = workers.send(inbound_stream_sync_task, str(stream.pk))

    # when the pool process running the pull is killed once a page has committed
    killed = a_page_committed(stream)
    (child,) = worker.pool_processes()
    os.kill(child, signal.SIGKILL)

    # then the worker puts the task back (acks_late, reject_on_worker_lost), runs it again in a new pool
    # process, and that run resumes from the last committed cursor
    assert workers.wait(task_id) == ["succeeded"]
    assert "WorkerLostError" in worker.log_path.read_text()
    assert_killed_between_pages(killed, customers)
    resumed = SyncRun.objects.exclude(pk=killed.pk).get(stream=stream)
    assert killed.cursor_after and (resumed.status, resumed.cursor_before) == (RunStatus.SUCCEEDED, killed.cursor_after)
    assert resumed.received < len(customers)
    assert_each_customer_once(platforms, stream, customers)


def cycle(workers: Workers, platforms: Platforms) -> None:
    schedule_pull(workers, platforms)
    relay(workers)


def held_per_golden(platforms: Platforms, system: str, records: dict) -> Counter:
    """How many of a platform's records stand for each golden client, through the hub's crosswalk."""
    crosswalk = dict(SourceRecord.objects.filter(system=platforms.systems[system], is_deleted=False)
                     .values_list("external_id", "golden_record_id"))
    return Counter(crosswalk.get(external_id) for external_id in records)


def test_two_subscribed_platforms_settle_without_a_loop(make_platforms, workers):
    platforms = make_platforms(clients=24, subscribe=True)
    salesforce, netsuite = platforms.salesforce.store["Account"], platforms.netsuite.store["customer"]
    workers.start(concurrency=2, pool="prefork")

    # given the initial sync: each platform's clients reach the other and are read back from it; a value the two
    # platforms disagreed on takes a hop more (the winner is written over the loser, whose next pull is the echo)
    for _ in range(3):
        cycle(workers, platforms)
    events, deliveries = ChangeEvent.objects.count(), Delivery.objects.count()
    position = ChangeEvent.objects.aggregate(last=Max("position"))["last"]

    # when the schedule keeps pulling and relaying
    cycle(workers, platforms)
    cycle(workers, platforms)

    # then nothing new happens: what the hub wrote and read back is recognised as its own
    assert (ChangeEvent.objects.count(), Delivery.objects.count()) == (events, deliveries)
    assert ChangeEvent.objects.aggregate(last=Max("position"))["last"] == position
    # and each platform holds exactly one record per golden client, counted in its own store
    goldens = set(Client.objects.values_list("pk", flat=True))
    assert len(goldens) == 24
    for system, records in (("salesforce", salesforce), ("netsuite", netsuite)):
        held = held_per_golden(platforms, system, records)
        assert set(held) == goldens, system
        assert set(held.values()) == {1}, system
    # the 8 clients each platform lacked were created there once (16 of their own + 8); every record the hub
    # wrote (created, or a platform's own record updated and stamped) carries a distinct hub id
    assert (len(salesforce), len(netsuite)) == (24, 24)
    hub_ids = Counter(r.get("Hub_Id__c") for r in salesforce.values() if r.get("Hub_Id__c"))
    external_ids = Counter(r.get("externalId") for r in netsuite.values() if r.get("externalId"))
    assert set(hub_ids.values()) == set(external_ids.values()) == {1}
    assert len(hub_ids) >= 8 and len(external_ids) >= 8
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()


def test_two_pulls_of_one_stream_at_once_one_runs_the_other_is_skipped(make_platforms, workers):
    platforms = make_platforms(clients=150, netsuite_page_size=10)
    stream = platforms.stream("netsuite", "customer")
    worker = workers.start(concurrency=2, pool="prefork")

    first, second = (workers.send(inbound_stream_sync_task, str(stream.pk)) for _ in range(2))

    assert workers.wait(first, second) == ["succeeded", "succeeded"]
    run = SyncRun.objects.get(stream=stream)
    assert (run.status, run.received) == (RunStatus.SUCCEEDED, len(platforms.netsuite.store["customer"]))
    assert worker.messages().count("stream busy, skipped") == 1


def pull(workers: Workers, *streams: Stream) -> None:
    ids = [workers.send(inbound_stream_sync_task, str(s.pk)) for s in streams]
    assert workers.wait(*ids) == ["succeeded"] * len(ids)


def test_a_rename_in_netsuite_reaches_the_salesforce_copy_the_hub_wrote(make_platforms, workers):
    platforms = make_platforms(clients=24, subscribe=True)
    workers.start(concurrency=2, pool="prefork")
    cycle(workers, platforms)
    cycle(workers, platforms)  # what the hub wrote is read back
    # given a NetSuite client that the hub wrote into Salesforce
    account = next(r for r in platforms.salesforce.store["Account"].values() if r.get("Hub_Id__c"))
    golden = Client.objects.get(golden_id=account["Hub_Id__c"])
    customer = SourceRecord.objects.get(system=platforms.systems["netsuite"], golden_record_id=golden.pk).external_id

    # when its legal name changes in NetSuite (which owns it)
    platforms.netsuite.touch("customer", customer, companyName="Renamed Holdings Limited")
    cycle(workers, platforms)

    # then the golden record takes it, and so does Salesforce's copy
    assert Client.objects.get(pk=golden.pk).legal_name == "Renamed Holdings Limited"
    assert platforms.salesforce.store["Account"][account["Id"]]["Legal_Name__c"] == "Renamed Holdings Limited"


def test_relaying_before_a_platform_is_first_read_writes_no_second_copy_there(make_platforms, workers):
    platforms = make_platforms(clients=24, subscribe=True)
    workers.start(concurrency=2, pool="prefork")

    # given Salesforce pulled and relayed before NetSuite's customers were ever read
    customers = len(platforms.netsuite.store["customer"])
    pull(workers, platforms.stream("salesforce", "Account"))
    assert workers.wait(workers.send(outbound_relay_task)) == ["succeeded"]
    # the deliveries to NetSuite wait for its first pull: nothing written there, no attempt spent
    assert len(platforms.netsuite.store["customer"]) == customers
    assert not Delivery.objects.filter(subscription__system=platforms.systems["netsuite"], attempts__gt=0).exists()
    # when NetSuite is then pulled, and the hub settles
    cycle(workers, platforms)
    cycle(workers, platforms)

    # then NetSuite holds each golden client once
    held = held_per_golden(platforms, "netsuite", platforms.netsuite.store["customer"])
    assert set(held.values()) == {1}
