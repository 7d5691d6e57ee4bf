"""Prompt relay: a transaction that changes golden records enqueues the outbound relay once it commits
(once, however many records it changed), so a change pulled from one platform reaches the other in
seconds rather than at beat's next tick; end to end with a real worker."""

import os
import subprocess
import time

import pytest
from kombu import Connection

from canonical.models import Client
from canonical.services.merge import golden_record_merge
from connectors.models import Delivery, DeliveryStatus
from connectors.services.inbound import stream_sync
from connectors.services.streams import streams_ensure
from connectors.tasks import inbound_stream_sync_task
from hub import embedded
from tests.factories.canonical import ClientFactory

LATENCY_TARGET_S = 5.0


def customer_stream(netsuite_system):
    return next(s for s in streams_ensure(system=netsuite_system) if s.object_type == "customer")


def test_an_inbound_page_enqueues_one_relay_when_it_commits(netsuite_target, salesforce_target,
                                                           django_capture_on_commit_callbacks):
    _, netsuite = netsuite_target
    stream = customer_stream(netsuite)

    with django_capture_on_commit_callbacks() as after_commit:
        run = stream_sync(stream=stream)

    assert run.created >= 2 and Client.objects.count() >= 2  # several golden changes...
    assert len(after_commit) == 1  # ...one relay


def test_a_steward_merge_enqueues_the_relay_too(salesforce_target, django_capture_on_commit_callbacks):
    survivor, merged = ClientFactory(), ClientFactory()

    with django_capture_on_commit_callbacks() as after_commit:
        golden_record_merge(survivor=survivor, merged=merged, actor="steward", reason="same firm")

    assert len(after_commit) == 1


def _isolated_redis_url(base_url: str) -> str:
    """A Redis database of its own, so a developer's running worker cannot take this test's tasks."""
    db = 10 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    if base_url.startswith("unix://"):
        return base_url.split("?")[0] + f"?db={db}"
    return f"{base_url.rsplit('/', 1)[0]}/{db}"


@pytest.fixture
def sync_worker(service_env, python, transactional_db):
    """A real Celery worker on the inbound and outbound queues, with the emulators' credentials."""
    credentials = {k: os.environ[k] for k in ("SF_ID", "SF_SECRET", "NS_TEST_CLIENT_ID", "NS_TEST_CERT_ID")}
    env = {**service_env, **credentials, "REDIS_URL": _isolated_redis_url(service_env["REDIS_URL"]),
           "LOG_FORMAT": "console"}
    process = subprocess.Popen(
        [python, "-m", "celery", "-A", "hub", "worker", "-Q", "inbound,outbound", "--concurrency", "1",
         "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    process.broker_url = embedded.redis_url_to_broker(env["REDIS_URL"])
    yield process
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.worker
def test_a_change_pulled_from_one_platform_is_delivered_to_the_other_within_seconds(
        netsuite_target, salesforce_target, sync_worker):
    """Only the pull is enqueued here: the relay and the deliveries follow from its commit alone."""
    _, netsuite = netsuite_target
    salesforce, _, _ = salesforce_target
    stream = customer_stream(netsuite)

    with Connection(sync_worker.broker_url) as conn:
        inbound_stream_sync_task.apply_async(args=[str(stream.pk)], connection=conn)

    deadline = time.monotonic() + 90
    while not (Client.objects.exists()
               and Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == Client.objects.count()):
        assert sync_worker.poll() is None, sync_worker.stdout.read()
        assert time.monotonic() < deadline, "the change was not delivered within 90 s"
        time.sleep(0.2)

    latencies = [(d.delivered_at - d.change.occurred_at).total_seconds()
                 for d in Delivery.objects.select_related("change")]
    assert max(latencies) < LATENCY_TARGET_S, latencies
    pushed = {r.get("Hub_Id__c") for r in salesforce.store["Account"].values()}
    assert set(Client.objects.values_list("golden_id", flat=True)) <= pushed
