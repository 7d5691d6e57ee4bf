"""The Celery app: queues, reliability settings, and correlation ids carried in task headers."""

import os

from celery import Celery, signals
from django.db import DatabaseError, close_old_connections, connections

from hub import correlation, memory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("concord")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Separate queues so a slow platform never starves matching or the other direction.
QUEUES = ("default", "inbound", "match", "outbound")
app.conf.task_routes = {
    "connectors.tasks.inbound_*": {"queue": "inbound"},
    "connectors.tasks.outbound_*": {"queue": "outbound"},
    "canonical.tasks.match_*": {"queue": "match"},
}
app.autodiscover_tasks()

# Celery's own request.correlation_id is the task id (an AMQP property), so ours travels under its own name.
HEADER = "concord_correlation_id"
_tokens: dict[str, object] = {}


@signals.worker_init.connect
@signals.worker_process_init.connect
def _tune_collector(**kwargs) -> None:
    # In the main process for the solo and thread pools, in each child for prefork (after the fork).
    memory.collector_tune()


@signals.before_task_publish.connect
def _propagate_correlation_id(headers: dict | None = None, **kwargs) -> None:
    cid = correlation.get()
    if headers is not None and cid and HEADER not in headers:
        headers[HEADER] = cid


@signals.task_prerun.connect
def _bind_correlation_id(task_id: str | None = None, task=None, **kwargs) -> None:
    cid = correlation.clean(getattr(task.request, HEADER, None)) if task else None
    _tokens[task_id] = correlation.activate(cid or correlation.new_id())


@signals.task_postrun.connect
def _unbind_correlation_id(task_id: str | None = None, **kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        correlation.deactivate(token)


@signals.task_postrun.connect
def _leave_the_database_as_found(task=None, **kwargs) -> None:
    """A worker keeps its database connections from one task to the next (CELERY_DB_REUSE_MAX), so nothing of a task
    stays on them: its session-level locks (a stream's pull lock, should the task have ended without releasing it)
    are released, and a connection that failed or is older than CONN_MAX_AGE is closed, as Django does between
    requests (one reused is checked before its next use). A task run eagerly, in its caller's process, leaves the
    caller's connections to the caller."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")
        except DatabaseError:
            connection.close()
    close_old_connections()
