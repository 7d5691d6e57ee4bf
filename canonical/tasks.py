"""Celery entry points of the canonical app: thin, idempotent, one service call each."""

from collections.abc import Callable

from celery import shared_task

from canonical.services.changes import change_events_sequence
from canonical.services.matching import match_claims_prune


def _until_done(step: Callable[[], int]) -> int:
    """Run a batch step until it finds nothing left to do; how much it did in all."""
    total = 0
    while (done := step()) > 0:
        total += done
    return total


@shared_task(name="canonical.tasks.change_events_sequence_task", acks_late=True, ignore_result=True)
def change_events_sequence_task() -> int:
    """Give committed change events their feed positions (also done on every feed read)."""
    return _until_done(change_events_sequence)


@shared_task(name="canonical.tasks.match_claims_prune_task", acks_late=True, ignore_result=True)
def match_claims_prune_task() -> int:
    """Delete the match-key claims no page holds (run daily by beat): the claim table keeps only what is in use."""
    return _until_done(match_claims_prune)
