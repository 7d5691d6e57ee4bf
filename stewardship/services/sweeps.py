"""Keep the queues in step with their causes: grey-zone pairs and sync failures.

Canonical and connectors never call stewardship (it depends on them, not the reverse); instead these
sweeps, run by beat every minute and on demand, open a task for every cause that has none and resolve the
tasks whose cause has gone. Each is idempotent: a cause never gets two tasks (see steward_task_raise).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from canonical.choices import PotentialMatchStatus
from canonical.models import PotentialMatch, SourceRecord
from canonical.registry import model_for
from connectors.models import Delivery, DeliveryStatus, Stream, WebhookEvent, WebhookStatus
from stewardship.models import Priority, Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.tasks import Subject, steward_task_cause_gone, steward_task_raise, steward_tasks_settle

PARKED_GRACE = timedelta(hours=1)
ACTIVE_MATCH = (PotentialMatchStatus.OPEN, PotentialMatchStatus.DEFERRED)
MATCH_OUTCOME = {PotentialMatchStatus.MERGED: Resolution.MERGED,
                 PotentialMatchStatus.NOT_A_MATCH: Resolution.NOT_A_MATCH}


def _task_exists(kind: str, **link):
    """A task that needs nothing from the sweep: active, or dismissed (a resolved one reopens if the cause is back)."""
    return Exists(StewardTask.objects.filter(kind=kind, **link).exclude(status=TaskStatus.RESOLVED))


def _match_priority(score: float) -> int:
    return Priority.HIGH if score >= 0.9 else Priority.NORMAL if score >= 0.6 else Priority.LOW


def potential_match_tasks_sync() -> dict[str, int]:
    """A task per open potential match; tasks of decided or superseded pairs resolve."""
    opened = 0
    waiting = (PotentialMatch.objects.filter(status__in=ACTIVE_MATCH)
               .exclude(_task_exists(TaskKind.POTENTIAL_MATCH, potential_match=OuterRef("pk"))))
    for chunk in _chunks(list(waiting), 500):
        opened += _potential_match_tasks_open(chunk)
    resolved = 0
    stale = (StewardTask.objects.filter(kind=TaskKind.POTENTIAL_MATCH, status__in=ACTIVE_STATUSES)
             .exclude(potential_match__status__in=ACTIVE_MATCH).select_related("potential_match"))
    for task in stale:
        match = task.potential_match
        outcome = MATCH_OUTCOME.get(match.status, Resolution.CAUSE_GONE) if match else Resolution.CAUSE_GONE
        note = f"decided by {match.decided_by}: {match.decision_reason}" if match and match.decided_by else ""
        resolved += steward_task_cause_gone(kind=task.kind, cause_key=task.cause_key, resolution=outcome,
                                            note=note or "the pair is no longer in question") is not None
    return {"opened": opened, "resolved": resolved}


def _chunks(items: list, size: int):
    return (items[i:i + size] for i in range(0, len(items), size))


def _potential_match_tasks_open(matches: list[PotentialMatch]) -> int:
    """Open the tasks of these pairs, reading their golden records with one query per entity type."""
    records = {}
    for entity_type in {m.entity_type for m in matches}:
        pks = [pk for m in matches if m.entity_type == entity_type for pk in (m.record_a, m.record_b)]
        records.update({r.pk: r for r in model_for(entity_type).objects.filter(pk__in=pks)})
    opened = 0
    for match in matches:
        a, b = records.get(match.record_a), records.get(match.record_b)
        names = " ~ ".join(str(getattr(r, "name", "") or r.golden_id) for r in (a, b) if r is not None)
        _, made = steward_task_raise(
            kind=TaskKind.POTENTIAL_MATCH, cause_key=f"potential_match:{match.pk}",
            title=f"Possible duplicate {match.entity_type}: {names}", domain=match.entity_type,
            subjects=[Subject(r.pk, r.golden_id) for r in (a, b) if r is not None],
            priority=_match_priority(match.score), details={"score": round(match.score, 4)}, potential_match=match,
        )
        opened += made
    return opened


def _delivery_details(delivery: Delivery) -> dict:
    change = delivery.change
    return {
        "system": delivery.subscription.system.key, "object_type": delivery.subscription.object_type,
        "entity_type": change.entity_type, "version": delivery.version, "attempts": delivery.attempts,
        "error": delivery.last_error, "response": delivery.response, "payload": change.data,
        "correlation_id": delivery.correlation_id,
    }


def sync_failure_tasks_sync() -> dict[str, int]:
    """Dead letters, failing streams, unreadable webhooks and long-parked source records, as tasks."""
    opened = resolved = 0
    dead = (Delivery.objects.filter(status=DeliveryStatus.DEAD)
            .exclude(_task_exists(TaskKind.SYNC_FAILURE, delivery=OuterRef("pk")))
            .select_related("change", "subscription__system"))
    for delivery in dead.iterator(chunk_size=200):
        change = delivery.change
        _, made = steward_task_raise(
            kind=TaskKind.SYNC_FAILURE, cause_key=f"delivery:{delivery.pk}",
            title=f"Not delivered to {delivery.subscription.system.key}: {change.entity_type} {change.golden_id}",
            domain=change.entity_type, subjects=[Subject(change.record_id, change.golden_id)],
            priority=Priority.HIGH, details=_delivery_details(delivery), delivery=delivery,
        )
        opened += made
    for task in (StewardTask.objects.filter(kind=TaskKind.SYNC_FAILURE, status__in=ACTIVE_STATUSES,
                                            cause_key__startswith="delivery:")
                 .exclude(delivery__status__in=[DeliveryStatus.DEAD, DeliveryStatus.PENDING, DeliveryStatus.HELD])
                 .select_related("delivery")):
        delivered = task.delivery is not None and task.delivery.status == DeliveryStatus.DELIVERED
        resolved += steward_task_cause_gone(
            kind=task.kind, cause_key=task.cause_key,
            resolution=Resolution.REPLAYED if delivered else Resolution.CAUSE_GONE,
            note="delivered on replay" if delivered else "a newer version replaced this delivery",
        ) is not None

    failing = {f"stream:{s.pk}": s for s in Stream.objects.exclude(last_error="").select_related("system")}
    for key, stream in failing.items():
        opened += steward_task_raise(
            kind=TaskKind.SYNC_FAILURE, cause_key=key, title=f"Pull failing: {stream.system.key} {stream.object_type}",
            priority=Priority.HIGH, details={"system": stream.system.key, "object_type": stream.object_type,
                                             "error": stream.last_error},
        )[1]
    resolved += _settle(prefix="stream:", present=failing, note="the stream pulled successfully")

    bad_hooks = {f"webhook:{e.pk}": e for e in
                 WebhookEvent.objects.filter(status=WebhookStatus.FAILED).select_related("system")}
    for key, event in bad_hooks.items():
        opened += steward_task_raise(
            kind=TaskKind.SYNC_FAILURE, cause_key=key,
            title=f"Webhook not applied: {event.system.key} {event.event_id}",
            details={"system": event.system.key, "object_type": event.object_type, "error": event.error,
                     "payload": event.body, "correlation_id": event.correlation_id},
        )[1]
    resolved += _settle(prefix="webhook:", present=bad_hooks, note="the event was applied")

    cutoff = timezone.now() - PARKED_GRACE
    parked = {f"parked:{s.pk}": s for s in SourceRecord.objects.filter(golden_record_id__isnull=True, is_deleted=False,
                                                                       first_seen_at__lt=cutoff).select_related("system")}
    for key, source in parked.items():
        opened += steward_task_raise(
            kind=TaskKind.SYNC_FAILURE, cause_key=key, domain=source.entity_type,
            title=f"Waiting for a record it refers to: {source.system.key} {source.object_type} {source.external_id}",
            priority=Priority.NORMAL, details={"system": source.system.key, "object_type": source.object_type,
                                               "external_id": source.external_id, "payload": source.payload},
        )[1]
    resolved += _settle(prefix="parked:", present=parked, note="the record was placed")
    return {"opened": opened, "resolved": resolved}



def _settle(*, prefix: str, present, note: str) -> int:
    return steward_tasks_settle(kind=TaskKind.SYNC_FAILURE, prefix=prefix, present=present, note=note)
