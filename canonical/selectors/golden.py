"""Reads of golden records: by UUID or golden id, by any system's id, as of an instant, with history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import QuerySet

from canonical.models import ConnectedSystem, SourceRecord
from canonical.registry import model_for


class UnknownSystem(LookupError):
    pass


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def golden_record_key(value: str) -> dict[str, Any]:
    """A lookup for either form of a golden record's identity: its UUID or its golden id (CL-000123)."""
    return {"id": value} if _is_uuid(value) else {"golden_id": value.upper()}


def golden_records_as_of(*, model: type[models.Model], as_of: datetime | None) -> QuerySet:
    """Live records, or what the hub held at ``as_of`` (answered from history)."""
    if as_of is None:
        return model.objects.all()
    return model.history.as_of(as_of)


@dataclass(frozen=True)
class CrosswalkHit:
    entity_type: str
    record: models.Model
    source_record: SourceRecord


def golden_record_get_by_crosswalk(
    *, system_key: str, external_id: str, object_type: str | None = None
) -> CrosswalkHit | None:
    """The golden record that a platform's record belongs to. Raises UnknownSystem for a bad system key."""
    system = ConnectedSystem.objects.filter(key=system_key).first()
    if system is None:
        raise UnknownSystem(system_key)
    sources = SourceRecord.objects.filter(system=system, external_id=external_id, golden_record_id__isnull=False)
    if object_type:
        sources = sources.filter(object_type=object_type)
    source = sources.order_by("is_deleted", "object_type").first()
    if source is None:
        return None
    record = model_for(source.entity_type).objects.filter(pk=source.golden_record_id).first()
    if record is None:
        return None
    return CrosswalkHit(entity_type=source.entity_type, record=record, source_record=source)


def golden_record_sources(*, record: models.Model) -> QuerySet:
    return (
        SourceRecord.objects.filter(entity_type=record.ENTITY_TYPE, golden_record_id=record.pk)
        .select_related("system")
        .order_by("system__key", "object_type", "external_id")
    )


@dataclass(frozen=True)
class HistoryEntry:
    record: Any
    changes: dict[str, dict[str, Any]]


_NOT_TRACKED = {"history_id", "history_date", "history_change_reason", "history_type", "history_user",
                "history_user_id", "correlation_id", "updated_at", "lineage"}


def history_with_changes(*, entries: Sequence[Any], model: type[models.Model]) -> list[HistoryEntry]:
    """Each history row with the attributes it changed against the version before it (one extra query)."""
    if not entries:
        return []
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in _NOT_TRACKED]
    oldest = min(entries, key=lambda e: e.history_id)
    previous = (
        model.history.filter(id=oldest.id, history_id__lt=oldest.history_id).order_by("-history_id").first()
    )
    chronological = sorted(entries, key=lambda e: e.history_id)
    result = []
    for entry in chronological:
        changes = {}
        for name in fields:
            new = getattr(entry, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None or old != new:
                if previous is None and new in (None, ""):
                    continue
                changes[name] = {"old": old, "new": new}
        result.append(HistoryEntry(record=entry, changes=changes))
        previous = entry
    order = {e.history_id: i for i, e in enumerate(entries)}
    return sorted(result, key=lambda h: order[h.record.history_id])
