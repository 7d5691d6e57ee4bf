"""A steward's decision on a task: merge, not a match, defer, dismiss, replay. Each calls the canonical or
connectors service that does the work, then closes the task in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from canonical.models import PotentialMatch
from canonical.registry import model_for
from canonical.services.golden import golden_record_override_set
from canonical.services.merge import golden_record_merge, not_a_match_record, potential_match_defer
from connectors.models import Delivery
from connectors.services.outbound import deliveries_replay
from stewardship.models import Resolution, StewardTask, TaskKind
from stewardship.services.tasks import (
    TaskStateError,
    actor_label,
    steward_task_assign,
    steward_task_defer,
    steward_task_dismiss,
    steward_task_resolve,
)
from stewardship.services.values import value_plain, value_same

DEFAULT_DEFER = timedelta(days=3)


def _match(task: StewardTask) -> PotentialMatch:
    if task.kind != TaskKind.POTENTIAL_MATCH or task.potential_match_id is None:
        raise TaskStateError("Only a potential-match task can be merged or marked not a match.")
    return PotentialMatch.objects.get(pk=task.potential_match_id)


def potential_match_pair(task: StewardTask) -> tuple[Any, Any]:
    """The two live golden records of a potential-match task."""
    match = _match(task)
    model = model_for(match.entity_type)
    return model.objects.get(pk=match.record_a), model.objects.get(pk=match.record_b)


def steward_task_merge(*, task: StewardTask, survivor_id: Any, keep: Mapping[str, str] | None = None, reason: str,
                       user: AbstractBaseUser | None, actor: str = "") -> Any:
    """Merge the pair into ``survivor_id`` ("a" or "b": the task's first or second record, or a golden id or
    UUID). ``keep`` picks, per attribute, the record whose value must survive; where survivorship over the
    merged sources would give another value, the picked one is pinned as a steward override (with the reason
    given). Attributes left out are decided by the survivorship rules."""
    who = actor_label(user, actor)
    with transaction.atomic():
        a, b = potential_match_pair(task)
        by_id = {str(a.pk): a, str(b.pk): b, a.golden_id: a, b.golden_id: b, "a": a, "b": b}
        survivor = by_id.get(str(survivor_id))
        if survivor is None:
            raise ValidationError({"survivor": ["Pick the record that survives: a or b (or its golden id)."]})
        model, merged = type(survivor), (b if survivor is a else a)
        unknown = sorted(attribute for attribute in (keep or {}) if attribute not in model.SURVIVED_ATTRIBUTES)
        sides = {attribute: by_id.get(str(side)) for attribute, side in (keep or {}).items()}
        unpicked = sorted(attribute for attribute, record in sides.items() if record is None)
        if unknown or unpicked:
            raise ValidationError({"keep": [f"not an attribute of a {model.ENTITY_TYPE}: {', '.join(unknown)}"
                                            if unknown else f"pick 'a' or 'b' for {', '.join(unpicked)}"]})
        chosen = {attribute: (record, value_plain(getattr(record, attribute))) for attribute, record in sides.items()}
        survivor = golden_record_merge(survivor=survivor, merged=merged, actor=who, reason=reason)
        for attribute, (origin, value) in chosen.items():
            if not value_same(getattr(survivor, attribute), value):
                golden_record_override_set(record=survivor, attribute=attribute, value=value, actor=who,
                                           reason=f"kept from {origin.golden_id} at merge: {reason}")
                survivor.refresh_from_db()
        steward_task_resolve(task=task, resolution=Resolution.MERGED, user=user, actor=actor,
                             note=f"{merged.golden_id} merged into {survivor.golden_id}: {reason}")
    return survivor


def steward_task_not_a_match(*, task: StewardTask, reason: str, user: AbstractBaseUser | None, actor: str = "",
                             ) -> StewardTask:
    with transaction.atomic():
        match = _match(task)
        not_a_match_record(entity_type=match.entity_type, a=match.record_a, b=match.record_b,
                           actor=actor_label(user, actor), reason=reason)
        return steward_task_resolve(task=task, resolution=Resolution.NOT_A_MATCH, note=reason, user=user,
                                    actor=actor)


def steward_task_postpone(*, task: StewardTask, reason: str, user: AbstractBaseUser | None,
                          until: datetime | None = None) -> StewardTask:
    """Defer: the task stays in the queue, hidden from 'ready' views until ``until``."""
    with transaction.atomic():
        if task.kind == TaskKind.POTENTIAL_MATCH and task.potential_match_id:
            potential_match_defer(match=_match(task), actor=actor_label(user), reason=reason)
        return steward_task_defer(task=task, until=until or timezone.now() + DEFAULT_DEFER, user=user)


def steward_task_replay(*, task: StewardTask, user: AbstractBaseUser | None) -> int:
    """Give a dead letter another run of attempts; the task resolves itself once it is delivered."""
    if task.kind != TaskKind.SYNC_FAILURE or task.delivery_id is None:
        raise TaskStateError("Only a failed delivery can be replayed.")
    with transaction.atomic():
        count = deliveries_replay(deliveries=Delivery.objects.filter(pk=task.delivery_id))
        if task.assignee_id is None and user is not None:
            steward_task_assign(task=task, assignee=user, by=user)
    return count


DECISIONS = ("merge", "not_a_match", "defer", "dismiss", "replay", "resolve")


def steward_task_decide(*, task: StewardTask, decision: str, reason: str = "", user: AbstractBaseUser | None,
                        actor: str = "", survivor: Any = None, keep: Mapping[str, str] | None = None) -> StewardTask:
    """One entry point for every decision (the API and the admin call it)."""
    if decision == "merge":
        if survivor is None:
            raise ValidationError({"survivor": ["a merge needs the surviving record"]})
        steward_task_merge(task=task, survivor_id=survivor, keep=keep, reason=reason or "merged by a steward",
                           user=user, actor=actor)
    elif decision == "not_a_match":
        steward_task_not_a_match(task=task, reason=reason or "not a match", user=user, actor=actor)
    elif decision == "defer":
        steward_task_postpone(task=task, reason=reason or "deferred", user=user)
    elif decision == "dismiss":
        steward_task_dismiss(task=task, reason=reason, user=user, actor=actor)
    elif decision == "replay":
        steward_task_replay(task=task, user=user)
    elif decision == "resolve":
        steward_task_resolve(task=task, resolution=Resolution.FIXED, note=reason, user=user, actor=actor)
    else:
        raise ValidationError({"decision": [f"one of {', '.join(DECISIONS)}"]})
    task.refresh_from_db()
    return task
