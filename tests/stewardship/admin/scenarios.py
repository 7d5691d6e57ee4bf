"""Situations the console is tested in, shared by the admin and browser tests: people in each role, a
potential match waiting in its queue, and a delivery the platform refused until it was dead-lettered."""

import datetime as dt
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from canonical.models import Client
from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery, DeliveryStatus, Subscription
from connectors.salesforce.emulator import make_app
from connectors.services.outbound import MAX_ATTEMPTS, deliveries_due, delivery_attempt, outbox_relay
from hub import correlation
from stewardship.models import StewardTask, TaskKind
from stewardship.services.sweeps import potential_match_tasks_sync, sync_failure_tasks_sync
from stewardship.services.tasks import steward_task_raise
from tests.factories.canonical import ConnectedSystemFactory, potential_match_pair

PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
CORRELATION_ID = "netsuite-pull-7f3a9c"


def person(username: str, role: str | None):
    """A staff member in one role group (None: staff with no role)."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def potential_match_task(suffix: str = "") -> StewardTask:
    """Two copies of Lucerne Publishing in the grey zone, raised as a task by the sweep."""
    potential_match_pair(suffix)
    potential_match_tasks_sync()
    return StewardTask.objects.filter(kind=TaskKind.POTENTIAL_MATCH).order_by("-created_at").first()


def deliver_due() -> list:
    return [delivery_attempt(delivery_id=i) for i in deliveries_due()]


def dead_letter(serve_wsgi, monkeypatch) -> tuple:
    """A new ERP client whose delivery to the Salesforce emulator failed until it went to the dead letters,
    raised as a sync-failure task. Returns the emulator (healthy again), the client and the task."""
    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    emulator = make_app(seed=42, clients=2)
    system = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(emulator),
                                    config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    Subscription.objects.create(system=system, entity_type="client", object_type="Account",
                                fields=["legal_name", "display_name", "country", "website_domain"])
    erp = ConnectedSystemFactory(key="netsuite", kind="netsuite")
    with correlation.bind(CORRELATION_ID):  # the ERP pull that brought the client in
        staged = source_record_stage(system=erp, object_type="customer", external_id="9001", entity_type="client",
                                     attributes={"legal_name": "Wingtip Toys Limited", "country": "GB",
                                                 "website_domain": "wingtip.co.uk"},
                                     payload={"id": "9001", "name": "Wingtip Toys Limited"}, source_modified_at=T0)
        source_record_match(source_record=staged.source_record)
    outbox_relay()
    emulator.faults.inject("unavailable", times=MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        Delivery.objects.update(next_attempt_at=dt.datetime.now(dt.UTC))
        deliver_due()
    assert Delivery.objects.get().status == DeliveryStatus.DEAD
    sync_failure_tasks_sync()
    staged.source_record.refresh_from_db()
    client = Client.objects.get(pk=staged.source_record.golden_record_id)
    return emulator, client, StewardTask.objects.get(kind=TaskKind.SYNC_FAILURE)


def hub_accounts(emulator) -> dict:
    return {r["Hub_Id__c"]: r for r in emulator.store["Account"].values() if r.get("Hub_Id__c")}


def task(kind: str = TaskKind.DATA_QUALITY, key: str = "dq:1", title: str = "Country missing", **values) -> StewardTask:
    """A task raised the way the rule sweeps raise them."""
    return steward_task_raise(kind=kind, cause_key=key, title=title, **values)[0]


def overdue(task: StewardTask, hours: int = 5) -> StewardTask:
    """Time has passed: the task's due date is ``hours`` ago (arranged in the database, as a clock would)."""
    StewardTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(hours=hours))
    task.refresh_from_db()
    return task


def aged(task: StewardTask, days: int) -> StewardTask:
    StewardTask.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(days=days))
    task.refresh_from_db()
    return task


def changelist_action(action: str, *tasks, **data) -> dict:
    return {"action": action, "_selected_action": [str(t.pk) for t in tasks], **data}
