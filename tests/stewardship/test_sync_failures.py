"""Sync failures as steward tasks: a dead letter opens one with the platform's error and the payload, replaying
it from the task delivers it and resolves the task; a failing pull opens one that clears when a pull succeeds."""

import datetime as dt

import pytest

from canonical.models import Client
from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus, Stream, Subscription
from connectors.salesforce.emulator import make_app
from connectors.services.outbound import MAX_ATTEMPTS, deliveries_due, delivery_attempt, outbox_relay
from stewardship.models import Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.services.decisions import steward_task_decide
from stewardship.services.sweeps import sync_failure_tasks_sync
from tests.factories.canonical import ConnectedSystemFactory


@pytest.fixture
def salesforce(db, serve_wsgi, monkeypatch):
    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    emulator = make_app(seed=7, clients=1)
    system = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(emulator),
                                    config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    Subscription.objects.create(system=system, entity_type="client", object_type="Account",
                                fields=["legal_name", "country"])
    return emulator, system


def erp_client():
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    source = source_record_stage(system=erp, object_type="customer", external_id="77", entity_type="client",
                                 attributes={"legal_name": "Fabrikam Advisory Limited", "country": "GB"},
                                 payload={"id": "77"}, source_modified_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    source_record_match(source_record=source.source_record)
    return Client.objects.get()


def attempt_all():
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)


def test_a_dead_letter_becomes_a_task_and_replay_from_the_task_resolves_it(salesforce, django_user_model):
    emulator, _ = salesforce
    client = erp_client()
    outbox_relay()
    emulator.faults.inject("unavailable", times=MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=dt.datetime.now(dt.UTC))
        attempt_all()
    assert Delivery.objects.get().status == DeliveryStatus.DEAD

    opened = sync_failure_tasks_sync()
    task = StewardTask.objects.get(kind=TaskKind.SYNC_FAILURE)
    steward = django_user_model.objects.create_user("sam", is_staff=True)
    steward_task_decide(task=task, decision="replay", user=steward)
    pending = sync_failure_tasks_sync()
    task.refresh_from_db()
    status_while_pending = task.status
    attempt_all()
    settled = sync_failure_tasks_sync()
    task.refresh_from_db()

    assert opened == {"opened": 1, "resolved": 0}
    assert task.golden_ids == [client.golden_id] and task.delivery_id is not None
    assert "503" in task.details["error"] and task.details["payload"]["legal_name"] == "Fabrikam Advisory Limited"
    assert pending == {"opened": 0, "resolved": 0} and status_while_pending == TaskStatus.IN_PROGRESS
    assert settled["resolved"] == 1
    assert (task.status, task.resolution) == (TaskStatus.RESOLVED, Resolution.REPLAYED)
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_failing_pull_opens_a_task_that_a_good_pull_resolves(salesforce):
    _, system = salesforce
    stream = Stream.objects.create(system=system, object_type="Account", last_error="401 invalid_client")

    sync_failure_tasks_sync()
    again = sync_failure_tasks_sync()
    task = StewardTask.objects.get(cause_key=f"stream:{stream.pk}")
    Stream.objects.filter(pk=stream.pk).update(last_error="")
    sync_failure_tasks_sync()
    task.refresh_from_db()

    assert again == {"opened": 0, "resolved": 0}
    assert task.details["error"] == "401 invalid_client"
    assert (task.status, task.resolution) == (TaskStatus.RESOLVED, Resolution.CAUSE_GONE)
