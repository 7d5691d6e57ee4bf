"""Celery entry points of stewardship: thin and idempotent."""

from celery import shared_task

from stewardship.services.exceptions import business_exceptions_check
from stewardship.services.queues import steward_queues_sweep


@shared_task(name="stewardship.tasks.steward_queues_sweep_task", acks_late=True, ignore_result=True)
def steward_queues_sweep_task() -> dict[str, dict[str, int]]:
    """Open tasks for new causes and resolve the ones whose cause has gone; check the golden records that changed
    since the last sweep against the data-quality rules (run by beat)."""
    return steward_queues_sweep()


@shared_task(name="stewardship.tasks.business_exceptions_check_task", acks_late=True, ignore_result=True)
def business_exceptions_check_task() -> dict[str, dict[str, int]]:
    """Run the business-exception rules as of today (run by beat, hourly)."""
    return business_exceptions_check()
