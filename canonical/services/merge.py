"""Steward decisions on golden records: merge, undo a merge, unmerge a source, not a match.

Each is one transaction with its history (who, why, correlation id), its change events and its
decision rows, and each can be undone. A merged-away record is kept, pointing at its survivor, so its
golden id still resolves (API and crosswalk lookups) and the merge can be reversed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from canonical.choices import ChangeOperation, MatchOutcome, PotentialMatchStatus
from canonical.models import MatchDecision, MatchRecord, NotAMatch, PotentialMatch, SourceRecord
from canonical.registry import model_for
from canonical.services.changes import change_event_record
from canonical.services.golden import golden_record_create, golden_record_recompute
from canonical.services.matching import decision_record, golden_views_complete, ordered_pair


def _lock(model: type[models.Model], *pks: Any) -> list[models.Model]:
    # Always lock in primary-key order, so two concurrent merges of the same records cannot deadlock.
    rows = {r.pk: r for r in model.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
    missing = [pk for pk in pks if pk not in rows]
    if missing:
        raise ValidationError(f"no {model.__name__} with id {missing[0]}")
    return [rows[pk] for pk in pks]


def golden_record_point(*, record: models.Model, to: models.Model | None, reason: str) -> None:
    """Retire ``record`` into ``to`` (its id then resolves there), or with ``to=None`` bring it back."""
    record.merged_into = to
    record.version += 1
    record._change_reason = reason
    record.save(update_fields=["merged_into", "version", "updated_at"])
    operation = ChangeOperation.MERGED if to is not None else ChangeOperation.UPDATED
    change_event_record(record=record, operation=operation, changed_fields=["merged_into"], reason=reason)


def golden_record_resolve(record: models.Model) -> models.Model:
    """Follow merges to the live record a (possibly retired) golden record now lives on as."""
    model = type(record)
    seen = set()
    while record.merged_into_id is not None and record.pk not in seen:
        seen.add(record.pk)
        record = model.objects.get(pk=record.merged_into_id)
    return record


def _move_sources(entity_type: str, sources: list[SourceRecord], to_pk: Any, *, outcome: str, actor: str,
                  reason: str) -> None:
    for source in sources:
        source.golden_record_id = to_pk
        source._change_reason = reason
        source.save(update_fields=["golden_record_id", "last_changed_at"])
        decision_record(source=source, outcome=outcome, golden_id=to_pk, actor=actor, reason=reason)
    MatchRecord.objects.filter(pk__in=[s.pk for s in sources]).update(golden_record_id=to_pk)


def golden_record_references_move(loser: models.Model, survivor: models.Model, reason: str) -> list[str]:
    """Records that refer to the loser (an engagement's client, a contract's parent...) follow the merge."""
    moved = []
    for relation in type(loser)._meta.related_objects:
        if not relation.one_to_many:
            continue
        field = relation.field
        if field.name == "merged_into" or not hasattr(relation.related_model, "history"):
            continue
        for row in relation.related_model.objects.filter(**{field.name: loser}):
            setattr(row, field.name, survivor)
            row._change_reason = reason
            row.save(update_fields=[field.name])
            moved.append(f"{relation.related_model.__name__}:{row.pk}")
    return moved


def golden_record_merge(*, survivor: models.Model, merged: models.Model, actor: str, reason: str) -> models.Model:
    """Fold ``merged`` into ``survivor``: its sources move over, and its id lives on as an alias."""
    model = type(survivor)
    if type(merged) is not model:
        raise ValidationError("only records of one entity type can be merged")
    if survivor.pk == merged.pk:
        raise ValidationError("a record cannot be merged into itself")
    with transaction.atomic():
        survivor, merged = _lock(model, survivor.pk, merged.pk)
        if survivor.merged_into_id or merged.merged_into_id:
            raise ValidationError("one of these records was already merged away; merge into its survivor")
        text = f"merged {merged.golden_id} into {survivor.golden_id} by {actor}: {reason}"
        sources = list(SourceRecord.objects.filter(entity_type=model.ENTITY_TYPE, golden_record_id=merged.pk))
        _move_sources(model.ENTITY_TYPE, sources, survivor.pk, outcome=MatchOutcome.STEWARD_MERGE, actor=actor,
                      reason=text)
        golden_record_references_move(merged, survivor, text)
        golden_record_point(record=merged, to=survivor, reason=text)
        _close_potential_matches(model.ENTITY_TYPE, merged.pk, survivor.pk, PotentialMatchStatus.MERGED, actor, reason)
        golden_record_recompute(record=survivor, reason=text)
        survivor.refresh_from_db()
    return survivor


def golden_record_unmerge_record(*, merged: models.Model, actor: str, reason: str) -> models.Model:
    """Undo a merge: the merged-away record comes back with its own id, the sources it brought, and the
    records that referred to it."""
    model = type(merged)
    with transaction.atomic():
        (merged,) = _lock(model, merged.pk)
        if merged.merged_into_id is None:
            raise ValidationError(f"{merged.golden_id} is not merged into another record")
        survivor = model.objects.select_for_update().get(pk=merged.merged_into_id)
        text = f"undid the merge of {merged.golden_id} into {survivor.golden_id} by {actor}: {reason}"
        golden_views_complete(entity_type=model.ENTITY_TYPE, golden_pks=[survivor.pk])  # each moves with its view
        brought = MatchDecision.objects.filter(
            outcome=MatchOutcome.STEWARD_MERGE, golden_record_id=survivor.pk,
            reason__startswith=f"merged {merged.golden_id} into {survivor.golden_id}",
        ).values_list("source_record_id", flat=True)
        sources = list(SourceRecord.objects.filter(pk__in=list(brought), golden_record_id=survivor.pk))
        _move_sources(model.ENTITY_TYPE, sources, merged.pk, outcome=MatchOutcome.STEWARD_UNMERGE, actor=actor,
                      reason=text)
        _restore_references(merged, survivor, text)
        golden_record_point(record=merged, to=None, reason=text)
        golden_record_recompute(record=merged, reason=text)
        golden_record_recompute(record=survivor, reason=text)
        merged.refresh_from_db()
    return merged


def _restore_references(merged: models.Model, survivor: models.Model, reason: str) -> None:
    """Point back at ``merged`` the rows that pointed at it before the merge (read from their history)."""
    for relation in type(merged)._meta.related_objects:
        if not relation.one_to_many or not hasattr(relation.related_model, "history"):
            continue
        field = relation.field
        if field.name == "merged_into":
            continue
        history = relation.related_model.history
        moved = history.filter(**{f"{field.name}_id": survivor.pk},
                               history_change_reason__startswith=f"merged {merged.golden_id} into")
        for row in relation.related_model.objects.filter(pk__in=moved.values("id"), **{field.name: survivor}):
            setattr(row, field.name, merged)
            row._change_reason = reason
            row.save(update_fields=[field.name])


def source_record_unmerge(*, source_record: SourceRecord, actor: str, reason: str,
                          into: models.Model | None = None) -> models.Model:
    """Take one source record out of its golden record: into another record, or into a new one.

    The two records are then remembered as not a match, so matching never puts the source back."""
    model = model_for(source_record.entity_type)
    with transaction.atomic():
        source = SourceRecord.objects.select_for_update().get(pk=source_record.pk)
        if source.golden_record_id is None:
            raise ValidationError("this source record is not in a golden record")
        old = model.objects.select_for_update().get(pk=source.golden_record_id)
        # Both records keep a view matching finds them by, whichever copy moves (see copy_views_write).
        golden_views_complete(entity_type=source.entity_type, golden_pks=[old.pk])
        if SourceRecord.objects.filter(entity_type=source.entity_type, golden_record_id=old.pk,
                                       is_deleted=False).count() < 2 and into is None:
            raise ValidationError(f"{old.golden_id} has no other source: there is nothing to unmerge it from")
        text = f"unmerged {source.system_id}:{source.external_id} from {old.golden_id} by {actor}: {reason}"
        if into is None:
            source.golden_record_id = None
            source._change_reason = text
            source.save(update_fields=["golden_record_id", "last_changed_at"])
            target = golden_record_create(entity_type=source.entity_type, source_records=[source], reason=text)
            decision_record(source=source, outcome=MatchOutcome.STEWARD_UNMERGE, golden_id=target.pk, actor=actor,
                            reason=text)
            MatchRecord.objects.filter(pk=source.pk).update(golden_record_id=target.pk)
        else:
            target = golden_record_resolve(into)
            if target.pk == old.pk:
                raise ValidationError("the source record is already in that golden record")
            _move_sources(source.entity_type, [source], target.pk, outcome=MatchOutcome.STEWARD_UNMERGE, actor=actor,
                          reason=text)
            golden_record_recompute(record=target, reason=text)
        not_a_match_record(entity_type=source.entity_type, a=old.pk, b=target.pk, actor=actor, reason=text)
        golden_record_recompute(record=old, reason=text)
        target.refresh_from_db()
    return target


def not_a_match_record(*, entity_type: str, a: Any, b: Any, actor: str, reason: str) -> NotAMatch:
    """Remember that two golden records are different; their open potential match is closed."""
    if a == b:
        raise ValidationError("a record is always a match for itself")
    first, second = ordered_pair(a, b)
    with transaction.atomic():
        decision, created = NotAMatch.objects.get_or_create(
            entity_type=entity_type, record_a=first, record_b=second, defaults={"actor": actor, "reason": reason[:300]}
        )
        _close_potential_matches(entity_type, a, b, PotentialMatchStatus.NOT_A_MATCH, actor, reason)
    return decision


def not_a_match_undo(*, decision: NotAMatch, actor: str, reason: str) -> None:
    with transaction.atomic():
        decision._change_reason = f"not-a-match withdrawn by {actor}: {reason}"
        decision.delete()
        PotentialMatch.objects.filter(
            entity_type=decision.entity_type, record_a=decision.record_a, record_b=decision.record_b,
            status=PotentialMatchStatus.NOT_A_MATCH,
        ).update(status=PotentialMatchStatus.OPEN, decided_by="", decided_at=None)


def _close_potential_matches(entity_type: str, a: Any, b: Any, status: str, actor: str, reason: str) -> None:
    first, second = ordered_pair(a, b)
    for match in PotentialMatch.objects.filter(entity_type=entity_type, record_a=first, record_b=second).exclude(
        status=status
    ):
        match.status = status
        match.decided_by = actor
        match.decision_reason = reason[:300]
        match.decided_at = timezone.now()
        match._change_reason = f"{status} by {actor}"
        match.save(update_fields=["status", "decided_by", "decision_reason", "decided_at"])


def potential_match_defer(*, match: PotentialMatch, actor: str, reason: str) -> PotentialMatch:
    """Put a pair aside for later: it stays in question (and in the steward's queue) without a decision."""
    if match.status not in (PotentialMatchStatus.OPEN, PotentialMatchStatus.DEFERRED):
        raise ValidationError(f"this potential match is already {match.status}")
    match.status, match.decided_by, match.decision_reason = PotentialMatchStatus.DEFERRED, actor, reason[:300]
    match._change_reason = f"deferred by {actor}"
    match.save(update_fields=["status", "decided_by", "decision_reason"])
    return match


def potential_match_reopen(*, match: PotentialMatch, actor: str, reason: str) -> PotentialMatch:
    """Put a decided pair back in question (a merge or not-a-match was undone)."""
    match.status, match.decided_by, match.decision_reason, match.decided_at = PotentialMatchStatus.OPEN, "", "", None
    match._change_reason = f"reopened by {actor}: {reason}"[:300]
    match.save(update_fields=["status", "decided_by", "decision_reason", "decided_at"])
    return match
