"""Golden records recomputed many at a time: what ``golden_record_recompute`` does to each, in a few statements.

A batch's rows are locked in pk order (two batches sharing records cannot deadlock), their active source
records read in one query, survivorship run on each in memory, and what changed written together: one update
of the rows, their history rows (change reason, correlation id and actor), and their change events. Each
record is decided exactly as the one-at-a-time path decides it: nothing is written when neither its values
nor its lineage (apart from when it was computed) changed, its version moves only when its values do, and a
record that would not be valid is left as it was and reported, without losing the rest of the batch.

Bulk writes send no signals: a caller that wants the change events relayed promptly asks for it once its
batch is written, as the page path does. Beyond those few statements, survivorship reads the database to
resolve references to other records and validation to check the foreign keys set and the constraints, a
record at a time: a batch with neither (clients without a parent) reads the same whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from canonical.choices import ChangeOperation
from canonical.models import ChangeEvent, ConnectedSystem, SourceRecord
from canonical.registry import model_for
from canonical.services.changes import change_event_build
from canonical.services.golden import _apply, _lineage_changed, _survive, golden_record_validate
from hub.db import history_rows_insert, rows_insert, rows_update


class Recomputed(dict):
    """The attributes that changed, per golden record pk (empty: nothing written), of every record that was
    recomputed; ``errors`` holds, per pk, why a record was left as it was (its golden record would not be
    valid). A pk is in one or the other."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[Any, ValidationError] = {}


def golden_records_recompute(*, entity_type: str, pks: Sequence[Any], reason: str) -> Recomputed:
    """Recompute golden records of one entity type from their active source records (see the module).

    An unknown pk raises the model's DoesNotExist, as the one-at-a-time path does; an invalid record does
    not raise: it is in the result's ``errors`` and the others are written."""
    model = model_for(entity_type)
    result = Recomputed()
    wanted = {model._meta.pk.to_python(pk) for pk in pks}
    if not wanted:
        return result
    with transaction.atomic():
        locked = list(model.objects.select_for_update().filter(pk__any=list(wanted)).order_by("pk"))
        missing = wanted - {record.pk for record in locked}
        if missing:
            raise model.DoesNotExist(f"no {entity_type} golden record {', '.join(sorted(map(str, missing)))}")
        sources = _active_sources(entity_type, wanted)
        written: list[tuple[models.Model, list[str]]] = []
        for record in locked:
            try:
                changed = _recomputed(record, sources.get(record.pk, []))
            except ValidationError as exc:
                result.errors[record.pk] = exc
                continue
            result[record.pk] = changed or []
            if changed is not None:
                record._change_reason = reason
                written.append((record, changed))
        if written:
            _write(model, written, reason)
    return result


def _active_sources(entity_type: str, golden_pks: set[Any]) -> dict[Any, list[SourceRecord]]:
    """Each golden record's active source records, in id order, as one query reads them for all."""
    found: dict[Any, list[SourceRecord]] = defaultdict(list)
    rows = (SourceRecord.objects.filter(entity_type=entity_type, golden_record_id__any=list(golden_pks),
                                        is_deleted=False)
            .defer("payload").order_by("id"))  # survivorship reads attributes only
    systems = ConnectedSystem.objects.in_bulk()  # a handful, shared by thousands of rows: one read for all
    for source in rows:
        source.system = systems[source.system_id]
        found[source.golden_record_id].append(source)
    return found


def _recomputed(record: models.Model, sources: Sequence[SourceRecord]) -> list[str] | None:
    """Survivorship on a locked record, applied in memory: the attributes that changed, or None when nothing is
    to be written (no active source, or neither values nor lineage changed). Raises ValidationError when the
    record would not be valid (then it may be half-applied: the caller leaves it unwritten)."""
    if not sources:
        return None
    values, lineage = _survive(record, sources)
    changed = _apply(record, values)
    if not changed and not _lineage_changed(record.lineage, lineage):
        return None
    record.lineage = lineage
    golden_record_validate(record)
    # The version counts changes of values, the ones consumers see; a value now supplied by another source
    # (lineage only) is kept in history without a new version or change event.
    record.version += 1 if changed else 0
    return changed


def _write(model: type[models.Model], written: Sequence[tuple[models.Model, list[str]]], reason: str) -> None:
    """One update of the rows (of what save() would write, what changed: the values that changed in any of them,
    lineage, version, updated_at), their history rows, and a change event for each whose values changed."""
    now = timezone.now()
    records = [record for record, _ in written]
    for record in records:
        record.updated_at = now
    changed = sorted({attribute for _, attributes in written for attribute in attributes})
    rows_update(model, records, [*changed, "lineage", "version", "updated_at"])
    history_rows_insert(model, records, update=True)
    events = [change_event_build(record=record, operation=ChangeOperation.UPDATED, changed_fields=changed,
                                 reason=reason) for record, changed in written if changed]
    if events:
        rows_insert(ChangeEvent, events)


def source_records_attach(*, pairs: Sequence[tuple[SourceRecord, Any]], entity_type: str, reason: str) -> Recomputed:
    """Attach source records to existing golden records (``(source, golden pk)`` pairs) and recompute those
    once each: what ``source_record_attach`` does to each pair, in a few statements.

    A golden record that would not be valid with its new sources keeps none of them, as a failed attach
    leaves nothing behind: its sources stay where they were (in memory too), the error is in the result's
    ``errors``, and the other pairs are attached."""
    model = model_for(entity_type)
    pending = [(source, model._meta.pk.to_python(pk)) for source, pk in pairs]
    errors: dict[Any, ValidationError] = {}
    while True:
        before = {source.pk: source.golden_record_id for source, _ in pending}
        try:
            with transaction.atomic():
                result = _attached(model, pending, reason)
                if result.errors:
                    raise _Invalid(result.errors)
        except _Invalid as invalid:  # attach the others again, without the records that would not be valid
            for source, _ in pending:
                source.golden_record_id = before[source.pk]
            errors.update(invalid.errors)
            pending = [(source, pk) for source, pk in pending if pk not in invalid.errors]
        else:
            result.errors.update(errors)
            return result


class _Invalid(Exception):
    """Rolls back a batch of attaches in which some golden records would not be valid."""

    def __init__(self, errors: dict[Any, ValidationError]) -> None:
        super().__init__(f"{len(errors)} golden records would not be valid")
        self.errors = errors


def _attached(model: type[models.Model], pairs: Sequence[tuple[SourceRecord, Any]], reason: str) -> Recomputed:
    if not pairs:
        return Recomputed()
    golden_ids = dict(model.objects.filter(pk__any=list({pk for _, pk in pairs})).values_list("pk", "golden_id"))
    now = timezone.now()
    sources = []
    for source, pk in pairs:
        if pk not in golden_ids:
            raise model.DoesNotExist(f"no {model.ENTITY_TYPE} golden record {pk}")
        source.golden_record_id, source.last_changed_at = pk, now
        source._change_reason = f"attached to {golden_ids[pk]}: {reason}"
        sources.append(source)
    rows_update(SourceRecord, sources, ["golden_record_id", "last_changed_at"])
    history_rows_insert(SourceRecord, sources, update=True)
    return golden_records_recompute(entity_type=model.ENTITY_TYPE, pks=list(golden_ids), reason=reason)

