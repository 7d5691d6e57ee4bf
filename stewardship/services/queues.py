"""Every queue brought in step with its causes at once: what beat runs every minute and the console's
"Run sweeps now" button runs on demand."""

from __future__ import annotations

from stewardship.models import TaskKind
from stewardship.services.exceptions import business_exceptions_check
from stewardship.services.quality import quality_feed_follow
from stewardship.services.sweeps import potential_match_tasks_sync, sync_failure_tasks_sync


def steward_queues_sweep(*, exceptions: bool = False) -> dict[str, dict[str, int]]:
    """Open tasks for new causes and resolve those whose cause has gone, per kind: grey-zone pairs, sync
    failures, data quality of the records changed since the last sweep, and (when asked; beat runs them
    hourly) the business-exception rules. Each kind's result has at least ``opened`` and ``resolved``."""
    results = {
        TaskKind.POTENTIAL_MATCH.value: potential_match_tasks_sync(),
        TaskKind.SYNC_FAILURE.value: sync_failure_tasks_sync(),
        TaskKind.DATA_QUALITY.value: quality_feed_follow(),
    }
    if exceptions:
        per_rule = business_exceptions_check().values()
        results[TaskKind.BUSINESS_EXCEPTION.value] = {
            "opened": sum(r["opened"] for r in per_rule), "resolved": sum(r["resolved"] for r in per_rule)}
    return results
