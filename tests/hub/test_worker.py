"""A real Celery worker on the real Redis runs the hub's tasks against the database."""

import os
import subprocess
import time

import pytest
from celery import signals
from django.db import connection
from kombu import Connection

from canonical.models import ChangeEvent
from canonical.services.changes import change_event_record
from canonical.tasks import change_events_sequence_task
from hub import embedded
from hub.celery import HEADER
from tests.factories.canonical import ClientFactory


def _isolated_redis_url(base_url: str) -> str:
    """A Redis database of its own, so a developer's running worker cannot take this test's tasks."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    db = 10 + int(worker[2:] or 0)
    if base_url.startswith("unix://"):
        return base_url.split("?")[0] + f"?db={db}"
    return f"{base_url.rsplit('/', 1)[0]}/{db}"


@pytest.fixture
def worker(service_env, python, transactional_db):
    env = {**service_env, "REDIS_URL": _isolated_redis_url(service_env["REDIS_URL"]), "LOG_FORMAT": "console"}
    process = subprocess.Popen(
        [python, "-m", "celery", "-A", "hub", "worker", "-Q", "default", "--concurrency", "1", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
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
def test_worker_sequences_the_change_feed(worker):
    client = ClientFactory()
    change_event_record(record=client, operation="created", changed_fields=["legal_name"], reason="worker test")
    assert ChangeEvent.objects.get(record_id=client.pk).position is None

    with Connection(worker.broker_url) as conn:
        change_events_sequence_task.apply_async(connection=conn, headers={HEADER: "from-test"})

    deadline = time.monotonic() + 60
    while ChangeEvent.objects.get(record_id=client.pk).position is None:
        assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, "the worker did not run the task within 60 s"
        time.sleep(0.2)
    assert ChangeEvent.objects.get(record_id=client.pk).position >= 1
    worker.terminate()
    log = worker.communicate(timeout=30)[0]
    # The correlation id sent in the task's headers is the one the worker logged the task under.
    assert "succeeded" in log and "correlation_id=from-test" in log


def _worker_backends() -> set[int]:
    """The database backends of other processes connected to this test's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return {pid for (pid,) in cursor.fetchall()}


def _run_and_wait(worker, record) -> None:
    with Connection(worker.broker_url) as conn:
        change_events_sequence_task.apply_async(connection=conn)
    deadline = time.monotonic() + 60
    while ChangeEvent.objects.get(record_id=record.pk).position is None:
        assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, "the worker did not run the task within 60 s"
        time.sleep(0.2)


@pytest.mark.worker
def test_the_worker_keeps_its_database_connection_from_one_task_to_the_next(worker):
    first, second = ClientFactory(), ClientFactory()
    change_event_record(record=first, operation="created", changed_fields=["legal_name"], reason="worker test")
    _run_and_wait(worker, first)
    time.sleep(0.5)  # the task's end (its postrun) follows its commit
    after_one = _worker_backends()

    change_event_record(record=second, operation="created", changed_fields=["legal_name"], reason="worker test")
    _run_and_wait(worker, second)
    time.sleep(0.5)

    # One connection, still open after each task, the same one: no backend started a task
    assert len(after_one) == 1 and _worker_backends() == after_one


@pytest.mark.django_db(transaction=True)
def test_a_task_s_end_releases_its_session_locks_and_closes_a_connection_past_its_age():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), pg_advisory_lock(4242)")
        pid = cursor.fetchone()[0]

    signals.task_postrun.send(sender=None)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND pid = pg_backend_pid() GROUP BY 1")
        assert cursor.fetchall() == []  # no lock left ...
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid  # ... on the same connection, kept

    connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE
    signals.task_postrun.send(sender=None)
    assert connection.connection is None
