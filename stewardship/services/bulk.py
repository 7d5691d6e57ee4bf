"""Bulk actions, each recorded as one BulkAction with what every item was before, and undone as one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from canonical.models import PotentialMatch
from canonical.registry import model_for
from canonical.services.golden import golden_record_override_clear, golden_record_override_set
from canonical.services.merge import golden_record_unmerge_record, potential_match_reopen
from stewardship.models import BulkAction, StewardTask
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.decisions import potential_match_pair, steward_task_merge
from stewardship.services.proposals import SENSITIVE
from stewardship.services.tasks import (
    TaskStateError,
    actor_label,
    clear_resolution,
    steward_task_assign,
    steward_task_dismiss,
    steward_task_reopen,
)


def _record(action: str, user: AbstractBaseUser | None, reason: str, items: list[dict]) -> BulkAction:
    bulk = BulkAction(action=action, user=user, actor_name=actor_label(user), reason=reason[:300], items=items,
                      item_count=len(items))
    bulk._change_reason = f"{action} of {len(items)}: {reason}"[:100]
    bulk.save()
    return bulk


def _active(tasks: Iterable[StewardTask]) -> list[StewardTask]:
    return list(StewardTask.objects.select_for_update().filter(pk__in=[t.pk for t in tasks],
                                                                 status__in=ACTIVE_STATUSES).order_by("pk"))


@transaction.atomic
def steward_tasks_bulk_assign(*, tasks: Iterable[StewardTask], assignee: AbstractBaseUser | None,
                              user: AbstractBaseUser | None) -> BulkAction:
    items = []
    for task in _active(tasks):
        items.append({"task": str(task.pk), "assignee": task.assignee_id, "status": task.status})
        steward_task_assign(task=task, assignee=assignee, by=user)
    who = assignee.get_username() if assignee else "the queue"
    return _record(BulkAction.Action.ASSIGN, user, f"assigned to {who}", items)


@transaction.atomic
def steward_tasks_bulk_dismiss(*, tasks: Iterable[StewardTask], reason: str, user: AbstractBaseUser | None,
                               ) -> BulkAction:
    if not reason.strip():
        raise ValidationError({"reason": ["Dismissing tasks needs a reason."]})
    items = []
    for task in _active(tasks):
        items.append({"task": str(task.pk), "assignee": task.assignee_id, "status": task.status})
        steward_task_dismiss(task=task, reason=reason, user=user)
    return _record(BulkAction.Action.DISMISS, user, reason, items)


@transaction.atomic
def steward_tasks_bulk_merge(*, tasks: Iterable[StewardTask], reason: str, user: AbstractBaseUser | None,
                             ) -> BulkAction:
    """Merge each pair into its older record (the one with the lower golden id keeps its id)."""
    items = []
    for task in _active(tasks):
        a, b = potential_match_pair(task)
        survivor, merged = sorted((a, b), key=lambda r: (len(r.golden_id), r.golden_id))
        steward_task_merge(task=task, survivor_id=survivor.pk, reason=reason, user=user)
        items.append({"task": str(task.pk), "entity_type": survivor.ENTITY_TYPE, "survivor": str(survivor.pk),
                      "merged": str(merged.pk), "potential_match": str(task.potential_match_id)})
    return _record(BulkAction.Action.MERGE, user, reason, items)


@transaction.atomic
def golden_records_bulk_override(*, records: Sequence[Any], attribute: str, value: Any, reason: str,
                                 user: AbstractBaseUser | None) -> BulkAction:
    """Pin one attribute to one value on many records. Sensitive attributes go through proposals instead."""
    if not records:
        raise ValidationError("no records chosen")
    entity_type = records[0].ENTITY_TYPE
    if attribute in SENSITIVE.get(entity_type, ()):
        raise ValidationError({attribute: ["a sensitive attribute: propose the edit for a second steward's approval"]})
    who = actor_label(user)
    items = []
    for record in records:
        items.append({"entity_type": record.ENTITY_TYPE, "record": str(record.pk), "attribute": attribute,
                      "previous": record.overrides.get(attribute)})
        golden_record_override_set(record=record, attribute=attribute, value=value, actor=who, reason=reason)
    return _record(BulkAction.Action.OVERRIDE, user, reason, items)


@transaction.atomic
def bulk_action_undo(*, bulk: BulkAction, user: AbstractBaseUser | None) -> BulkAction:
    """Undo every item of a bulk action, newest first; history shows the action and its undoing."""
    bulk = BulkAction.objects.select_for_update().get(pk=bulk.pk)
    if bulk.undone_at:
        raise TaskStateError("This bulk action was already undone.")
    who = actor_label(user)
    reason = f"undo of {bulk.get_action_display().lower()} {bulk.pk}"
    for item in reversed(bulk.items):
        UNDO[bulk.action](item, who, reason)
    bulk.undone_at, bulk.undone_by_name = timezone.now(), who
    bulk._change_reason = reason[:100]
    bulk.save()
    return bulk


def _undo_task_state(item: dict, who: str, reason: str) -> None:
    task = StewardTask.objects.select_for_update().get(pk=item["task"])
    if item["status"] in ACTIVE_STATUSES:
        clear_resolution(task)
    task.assignee_id, task.status = item["assignee"], item["status"]
    task._change_reason = f"{reason} by {who}"[:100]
    task.save()


def _undo_merge(item: dict, who: str, reason: str) -> None:
    model = model_for(item["entity_type"])
    golden_record_unmerge_record(merged=model.objects.get(pk=item["merged"]), actor=who, reason=reason)
    match = PotentialMatch.objects.filter(pk=item["potential_match"]).first()
    if match is not None:
        potential_match_reopen(match=match, actor=who, reason=reason)
    steward_task_reopen(task=StewardTask.objects.get(pk=item["task"]), reason=f"{reason} by {who}")


def _undo_override(item: dict, who: str, reason: str) -> None:
    record = model_for(item["entity_type"]).objects.get(pk=item["record"])
    previous = item["previous"]
    if previous is None:
        if item["attribute"] in record.overrides:
            golden_record_override_clear(record=record, attribute=item["attribute"], actor=who, reason=reason)
    else:
        golden_record_override_set(record=record, attribute=item["attribute"], value=previous["value"], actor=who,
                                   reason=f"{reason} (restores: {previous.get('reason', '')})")


UNDO = {
    BulkAction.Action.ASSIGN: _undo_task_state,
    BulkAction.Action.DISMISS: _undo_task_state,
    BulkAction.Action.MERGE: _undo_merge,
    BulkAction.Action.OVERRIDE: _undo_override,
}
