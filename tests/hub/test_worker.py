"""A real Celery worker on the real Redis runs the hub's tasks against the database."""

import os
import subprocess
import time

import pytest
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
