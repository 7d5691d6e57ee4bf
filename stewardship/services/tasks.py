"""Opening, working and closing steward tasks. Every change goes through here: views, admin actions, the
API, the rule sweeps and tests all call these functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from stewardship.models import Priority, Resolution, StewardTask, TaskComment, TaskKind, TaskSLA, TaskStatus
from stewardship.models.tasks import ACTIVE_STATUSES

HUB = "hub"  # who resolves a task whose cause disappeared

DEFAULT_SLA_HOURS = {
    TaskKind.POTENTIAL_MATCH: 72,
    TaskKind.DATA_QUALITY: 120,
    TaskKind.BUSINESS_EXCEPTION: 48,
    TaskKind.SYNC_FAILURE: 8,
}


class TaskStateError(ValueError):
    """The task is not in a state that allows this (e.g. resolving a resolved task)."""


@dataclass(frozen=True)
class Subject:
    """A record a task is about."""

    id: Any
    golden_id: str = ""


def _sla(kind: str) -> tuple[int, int | None]:
    sla = TaskSLA.objects.filter(kind=kind).first()
    if sla is None:
        return DEFAULT_SLA_HOURS[TaskKind(kind)], None
    return sla.hours, sla.default_priority


def actor_label(user: AbstractBaseUser | None, name: str = "") -> str:
    return name or (user.get_username() if user is not None else HUB)


def steward_task_raise(
    *,
    kind: str,
    cause_key: str,
    title: str,
    domain: str = "",
    subjects: Sequence[Subject] = (),
    priority: int | None = None,
    details: dict[str, Any] | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    **links: Any,
) -> tuple[StewardTask, bool]:
    """Open the task for this cause, or refresh the one already open. A resolved task whose cause is back
    reopens (its history shows both); a dismissed one stays dismissed (a steward said to let it be).
    Returns the task and whether it was opened or reopened now."""
    hours, default_priority = _sla(kind)
    values = {
        "title": title[:300], "domain": domain, "record_ids": [s.id for s in subjects],
        "golden_ids": [s.golden_id for s in subjects if s.golden_id], "details": details or {},
        "amount": amount, "currency": currency, **links,
    }
    with transaction.atomic():
        task = StewardTask.objects.select_for_update().filter(kind=kind, cause_key=cause_key).first()
        now = timezone.now()
        if task is None:
            task = StewardTask(kind=kind, cause_key=cause_key, due_at=now + timedelta(hours=hours),
                               priority=priority or default_priority or Priority.NORMAL, **values)
            task._change_reason = "opened"
            task.save()
            return task, True
        reopened = task.status == TaskStatus.RESOLVED
        changed = [k for k, v in values.items() if _differs(getattr(task, k if k in _FIELDS else f"{k}_id"), v)]
        if not reopened and not changed:
            return task, False
        for key in changed:
            setattr(task, key, values[key])
        if priority and task.priority != priority:
            task.priority = priority
        if reopened:
            clear_resolution(task)
            task.due_at = now + timedelta(hours=hours)
        task._change_reason = "cause came back" if reopened else "cause changed"
        task.save()
        return task, reopened


_FIELDS = {"title", "domain", "record_ids", "golden_ids", "details", "amount", "currency"}


def _differs(held: Any, new: Any) -> bool:
    if hasattr(new, "pk"):
        new = new.pk
    if isinstance(held, list) and isinstance(new, list):
        return [str(v) for v in held] != [str(v) for v in new]
    if isinstance(held, Decimal) or isinstance(new, Decimal):
        return (None if held is None else Decimal(held)) != (None if new is None else Decimal(new))
    return held != new


def _close(task: StewardTask, *, status: str, resolution: str, note: str, user: AbstractBaseUser | None,
           actor: str, reason: str) -> StewardTask:
    task.status, task.resolution, task.resolution_note = status, resolution, note[:4000]
    task.resolved_by, task.resolved_by_name, task.resolved_at = user, actor_label(user, actor), timezone.now()
    task._change_reason = reason
    task.save()
    return task


def steward_task_cause_gone(*, kind: str, cause_key: str, note: str = "", resolution: str = Resolution.CAUSE_GONE,
                            ) -> StewardTask | None:
    """The cause disappeared (record fixed, delivery succeeded): resolve the task if it is still active."""
    with transaction.atomic():
        task = (StewardTask.objects.select_for_update()
                .filter(kind=kind, cause_key=cause_key, status__in=ACTIVE_STATUSES).first())
        if task is None:
            return None
        return _close(task, status=TaskStatus.RESOLVED, resolution=resolution, note=note, user=None, actor=HUB,
                      reason=note or "cause disappeared")


def steward_tasks_settle(*, kind: str, present: Iterable[str], prefix: str = "",
                         resolution: str = Resolution.CAUSE_GONE, note: str = "") -> int:
    """Resolve every active task of ``kind`` (whose cause key starts with ``prefix``) not in ``present``."""
    present = set(present)
    stale = (StewardTask.objects.filter(kind=kind, status__in=ACTIVE_STATUSES, cause_key__startswith=prefix)
             .exclude(cause_key__in=present).values_list("cause_key", flat=True))
    closed = 0
    for cause_key in list(stale):
        closed += steward_task_cause_gone(kind=kind, cause_key=cause_key, resolution=resolution, note=note) is not None
    return closed


def _locked_active(task: StewardTask) -> StewardTask:
    task = StewardTask.objects.select_for_update().get(pk=task.pk)
    if task.status not in ACTIVE_STATUSES:
        raise TaskStateError(f"This task is {task.get_status_display().lower()}.")
    return task


def clear_resolution(task: StewardTask) -> None:
    """Back to open, with no resolution (the caller saves)."""
    task.status, task.resolution, task.resolution_note = TaskStatus.OPEN, "", ""
    task.resolved_by, task.resolved_by_name, task.resolved_at = None, "", None


@transaction.atomic
def steward_task_reopen(*, task: StewardTask, reason: str) -> StewardTask:
    """Back in the queue (its decision was undone); keeps its due date."""
    task = StewardTask.objects.select_for_update().get(pk=task.pk)
    if task.status not in ACTIVE_STATUSES:
        clear_resolution(task)
        task.assignee = None
        task._change_reason = reason[:100]
        task.save()
    return task


@transaction.atomic
def steward_task_assign(*, task: StewardTask, assignee: AbstractBaseUser | None, by: AbstractBaseUser | None,
                        ) -> StewardTask:
    """Give the task to ``assignee`` (None: back to the queue). Claiming is assigning to oneself."""
    task = _locked_active(task)
    task.assignee = assignee
    task.status = TaskStatus.IN_PROGRESS if assignee is not None else TaskStatus.OPEN
    who = actor_label(by)
    task._change_reason = f"assigned to {assignee.get_username()} by {who}" if assignee else f"released by {who}"
    task.save()
    return task


def steward_task_claim(*, task: StewardTask, user: AbstractBaseUser) -> StewardTask:
    """Take a task: refused if someone else holds it (they must release it, or a lead reassigns it)."""
    with transaction.atomic():
        locked = _locked_active(task)
        if locked.assignee_id not in (None, user.pk):
            raise TaskStateError(f"This task is assigned to {locked.assignee.get_username()}.")
        return steward_task_assign(task=locked, assignee=user, by=user)


@transaction.atomic
def steward_task_resolve(*, task: StewardTask, resolution: str, note: str = "", user: AbstractBaseUser | None,
                         actor: str = "") -> StewardTask:
    task = _locked_active(task)
    return _close(task, status=TaskStatus.RESOLVED, resolution=resolution, note=note, user=user, actor=actor,
                  reason=f"resolved: {Resolution(resolution).label.lower()}")


@transaction.atomic
def steward_task_dismiss(*, task: StewardTask, reason: str, user: AbstractBaseUser | None, actor: str = "",
                         ) -> StewardTask:
    if not reason.strip():
        raise ValidationError({"reason": ["Dismissing a task needs a reason."]})
    task = _locked_active(task)
    return _close(task, status=TaskStatus.DISMISSED, resolution=Resolution.DISMISSED, note=reason, user=user,
                  actor=actor, reason=f"dismissed: {reason[:200]}")


@transaction.atomic
def steward_task_defer(*, task: StewardTask, until: datetime, user: AbstractBaseUser | None) -> StewardTask:
    """Put a task aside until ``until``; it stays active and keeps its due date."""
    task = _locked_active(task)
    task.deferred_until = until
    task._change_reason = f"deferred until {until:%Y-%m-%d %H:%M} by {actor_label(user)}"
    task.save()
    return task


def steward_task_comment(*, task: StewardTask, body: str, user: AbstractBaseUser | None, actor: str = "",
                         ) -> TaskComment:
    if not body.strip():
        raise ValidationError({"body": ["A comment needs some text."]})
    return TaskComment.objects.create(task=task, body=body, author=user, author_name=actor_label(user, actor))
