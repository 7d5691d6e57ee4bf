"""Writes of golden records and their crosswalk: stage a source copy, (re)compute a golden record.

Every write here runs in one transaction with its history rows (simple-history, with the change
reason and correlation id) and its change event. Unchanged inputs write nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from canonical import survivorship
from canonical.choices import ChangeOperation
from canonical.matching import normalise
from canonical.models import ConnectedSystem, SourceRecord
from canonical.registry import model_for
from canonical.services.changes import change_event_record
from hub.db import canonical_json, json_safe


@dataclass(frozen=True)
class StageResult:
    source_record: SourceRecord
    created: bool
    changed: bool
    stale: bool = False
    # False when only the payload changed (a field the hub does not map, the platform's timestamp, the hub's own
    # id stamped on it): the copy's attributes, and so its golden record, are as they were.
    attributes_changed: bool = True


def payload_digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the payload as canonical JSON (keys sorted; see hub.db.canonical_json)."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def source_record_stage(
    *,
    system: ConnectedSystem,
    object_type: str,
    external_id: str,
    entity_type: str,
    attributes: Mapping[str, Any],
    payload: Mapping[str, Any],
    source_modified_at: datetime | None = None,
    reason: str = "staged from source",
) -> StageResult:
    """Insert or update one platform's copy of a record, keyed by (system, object type, external id).

    The same payload again is a no-op. A copy older (by the platform's own timestamp) than the one
    already held is ignored, so a late-arriving older update never overwrites a newer one.
    """
    model_for(entity_type)  # validates the entity type
    digest = payload_digest(payload)
    key = {"system": system, "object_type": object_type, "external_id": str(external_id)}
    with transaction.atomic():
        existing = SourceRecord.objects.select_for_update().filter(**key).first()
        if existing is None:
            safe = json_safe(attributes)
            record = SourceRecord(
                **key, entity_type=entity_type, attributes=safe, payload=json_safe(payload),
                payload_hash=digest, source_modified_at=source_modified_at,
                attribute_times=_attribute_times({}, {}, safe, None, source_modified_at),
            )
            record._change_reason = reason
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError:
                # Another worker staged it first; take the update path against its row.
                existing = SourceRecord.objects.select_for_update().get(**key)
            else:
                return StageResult(record, created=True, changed=True)
        if existing.payload_hash == digest and not existing.is_deleted:
            return StageResult(existing, created=False, changed=False)
        if (
            source_modified_at is not None
            and existing.source_modified_at is not None
            and source_modified_at < existing.source_modified_at
        ):
            return StageResult(existing, created=False, changed=False, stale=True)
        safe = json_safe(attributes)
        payload_only = safe == existing.attributes and not existing.is_deleted
        existing.attribute_times = _attribute_times(existing.attributes, existing.attribute_times, safe,
                                                    existing.source_modified_at, source_modified_at)
        existing.attributes = safe
        existing.payload = json_safe(payload)
        existing.payload_hash = digest
        existing.source_modified_at = source_modified_at
        existing.is_deleted = False
        existing.deleted_at = None
        existing._change_reason = reason
        if payload_only:  # nothing the hub maps from it changed: no history row (as source_records_stage)
            existing.save_without_historical_record()
        else:
            existing.save()
        return StageResult(existing, created=False, changed=True, attributes_changed=not payload_only)


def _attribute_times(old: Mapping[str, Any], old_times: Mapping[str, str], new: Mapping[str, Any],
                     old_modified_at: datetime | None, modified_at: datetime | None) -> dict[str, str]:
    """When each attribute's value last changed: now (the copy's timestamp) if it differs from the value held,
    else when it last changed before."""
    stamp = modified_at.isoformat() if modified_at else None
    before = old_modified_at.isoformat() if old_modified_at else None
    times = {}
    for attribute, value in new.items():
        same = attribute in old and old[attribute] == value
        held = old_times.get(attribute) or before if same else None
        if held or stamp:
            times[attribute] = held or stamp
    return times


def source_values(sources: Sequence[SourceRecord]) -> list[survivorship.SourceValues]:
    """Source records as survivorship sees them."""
    return [
        survivorship.SourceValues(
            source_record_id=str(s.pk), system_kind=s.system.kind, system_key=s.system.key,
            modified_at=s.source_modified_at, attributes=s.attributes, attribute_times=s.attribute_times,
        )
        for s in sources
    ]


def reference_resolve(*, value: Mapping[str, Any], system_id: Any) -> Any:
    """The golden record a platform reference points at: ``{"object_type", "external_id"[, "system"]}``,
    in the referring record's own system unless ``system`` (a key) names another. None if unknown."""
    sources = SourceRecord.objects.filter(
        object_type=value.get("object_type"), external_id=str(value.get("external_id"))
    )
    if value.get("system"):
        sources = sources.filter(system__key=value["system"])
    else:
        sources = sources.filter(system_id=system_id)
    return sources.values_list("golden_record_id", flat=True).first()


def _resolve_reference(field: models.ForeignKey, value: Any, system_id: Any) -> Any:
    """A source refers to a related record by its id in a platform (its own by default, or ``"system": key``),
    or by golden id or UUID. A reference that resolves to nothing is an error naming it, never a silent null."""
    related = field.related_model
    if isinstance(value, Mapping):
        resolved = reference_resolve(value=value, system_id=system_id)
    elif isinstance(value, str) and value[:2].isalpha() and "-" in value:
        resolved = related.objects.filter(golden_id=value.upper()).values_list("pk", flat=True).first()
    else:
        resolved = related.objects.filter(pk=value).values_list("pk", flat=True).first()
    if resolved is None:
        raise ValidationError({field.name: [f"reference {value!r} does not resolve to a golden {related.__name__}"]})
    return resolved


# Reference data is standardised on the way into a golden record: "United Kingdom" and "GB" are one
# country, "https://www.acme.com/" and "acme.com" one website.
STANDARDISE = {
    "country": normalise.country,
    "billing_country": normalise.country,
    "currency": normalise.currency,
    "website_domain": normalise.domain,
}


def _to_field_value(model: type[models.Model], attribute: str, value: Any, system_id: Any) -> Any:
    if attribute in STANDARDISE and isinstance(value, str):
        value = STANDARDISE[attribute](value) or value
    field = model._meta.get_field(attribute)
    if value is None or value == "":
        return None if field.null or field.is_relation else ""
    if field.is_relation:
        return _resolve_reference(field, value, system_id)
    return field.to_python(value)


def _empty(model: type[models.Model], attribute: str) -> Any:
    field = model._meta.get_field(attribute)
    if field.null or field.is_relation:
        return None
    if field.has_default():
        return field.get_default()
    return ""


def _active_sources(entity_type: str, golden_pk: Any) -> list[SourceRecord]:
    return list(
        SourceRecord.objects.filter(entity_type=entity_type, golden_record_id=golden_pk, is_deleted=False)
        .select_related("system")
        .order_by("id")
    )


def _survive(record: models.Model, sources: Sequence[SourceRecord]) -> tuple[dict[str, Any], dict[str, dict]]:
    model = type(record)
    views = source_values(sources)
    system_of = {str(s.pk): s.system_id for s in sources}
    pinned = record.overrides or {}
    survivors = survivorship.survive(model.ENTITY_TYPE, model.SURVIVED_ATTRIBUTES, views,
                                     overrides={a: o["value"] for a, o in pinned.items()})
    values: dict[str, Any] = {}
    lineage: dict[str, dict] = {}
    now = timezone.now().isoformat()
    for attribute in model.SURVIVED_ATTRIBUTES:
        survivor = survivors.get(attribute)
        if survivor is None:
            values[attribute] = _empty(model, attribute)
            continue
        unresolved = None
        try:
            values[attribute] = _to_field_value(model, attribute, survivor.value,
                                                system_of.get(survivor.source_record_id))
        except ValidationError:
            # A reference to a record the hub has not seen yet (a child synced before its parent). An optional
            # link waits, marked, and is resolved when the referenced record arrives; a required one cannot.
            if not model._meta.get_field(attribute).null:
                raise
            values[attribute], unresolved = None, survivor.value
        lineage[attribute] = {
            "source_record": survivor.source_record_id, "system": survivor.system, "rule": survivor.rule, "at": now,
        }
        if unresolved is not None:
            lineage[attribute]["unresolved"] = unresolved
        if attribute in pinned:
            lineage[attribute].update(by=pinned[attribute].get("by"), reason=pinned[attribute].get("reason"))
    return values, lineage


@cache
def _not_survived(model: type[models.Model]) -> tuple[str, ...]:
    """The fields of a golden record that survivorship does not set: its ids, version, lineage, overrides and times,
    all the hub's own. A golden record is validated on the rest, the values its sources gave it."""
    return tuple(f.name for f in model._meta.fields if f.name not in model.SURVIVED_ATTRIBUTES)


def golden_record_validate(record: models.Model) -> None:
    """Validate a golden record's survived values and its constraints (full_clean but for the fields the hub sets
    itself: checking the lineage's JSON, ~17 µs, cost more than all the survived values, ~1 µs each). Raises
    ValidationError."""
    record.full_clean(exclude=_not_survived(type(record)))


def _apply(record: models.Model, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for attribute, value in values.items():
        field = record._meta.get_field(attribute)
        if getattr(record, field.attname) != value:
            setattr(record, field.attname, value)
            changed.append(attribute)
    return changed


def _lineage_changed(old: Mapping[str, dict], new: Mapping[str, dict]) -> bool:
    strip = lambda lin: {k: {kk: vv for kk, vv in v.items() if kk != "at"} for k, v in lin.items()}  # noqa: E731
    return strip(old) != strip(new)


def golden_record_create(
    *, entity_type: str, source_records: Sequence[SourceRecord], reason: str
) -> models.Model:
    """Create a golden record from one or more source records and attach them to it."""
    model = model_for(entity_type)
    if not source_records:
        raise ValueError("A golden record needs at least one source record")
    for source in source_records:
        if source.entity_type != entity_type:
            raise ValueError(f"source {source} feeds a {source.entity_type}, not a {entity_type}")
        if source.golden_record_id is not None:
            raise ValueError(f"source {source} already belongs to golden record {source.golden_record_id}")
    with transaction.atomic():
        record = model()
        try:
            values, lineage = _survive(record, source_records)
            _apply(record, values)
            record.lineage = lineage
            golden_record_validate(record)
        except ValidationError as exc:
            raise ValidationError({"source": [f"cannot build a {entity_type} golden record: {exc}"]}) from exc
        record._change_reason = reason
        record.save()
        record.refresh_from_db(fields=["golden_id"])
        for source in source_records:
            source.golden_record_id = record.pk
            source._change_reason = f"attached to {record.golden_id}: {reason}"
            source.save(update_fields=["golden_record_id", "last_changed_at"])
        change_event_record(
            record=record, operation=ChangeOperation.CREATED, changed_fields=list(values), reason=reason
        )
    return record


def golden_record_recompute(*, record: models.Model, reason: str) -> list[str]:
    """Recompute a golden record from its active source records; returns the attributes that changed.

    Nothing is written when nothing changed. The record's row is locked for the duration, so two
    recomputes of one record are serialised and its versions and change events stay in order.
    """
    model = type(record)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        sources = _active_sources(model.ENTITY_TYPE, locked.pk)
        if not sources:
            return []
        values, lineage = _survive(locked, sources)
        changed = _apply(locked, values)
        if not changed and not _lineage_changed(locked.lineage, lineage):
            return []
        locked.lineage = lineage
        golden_record_validate(locked)
        # The version counts changes of values, the ones consumers see; a value now supplied by another
        # source (lineage only) is kept in history without a new version or change event.
        locked.version += 1 if changed else 0
        locked._change_reason = reason
        locked.save()
        if changed:
            change_event_record(record=locked, operation=ChangeOperation.UPDATED, changed_fields=changed, reason=reason)
    record.refresh_from_db()
    return changed


def source_record_mark_deleted(
    *, system: ConnectedSystem, object_type: str, external_id: str, deleted_at: datetime | None = None,
    reason: str = "deleted in the platform",
) -> SourceRecord | None:
    """The platform deleted its copy: mark the crosswalk entry deleted and recompute the golden record.

    A golden record left with no active source is never removed: it is marked inactive (a change event
    says so) for a steward to decide. Returns the source record, or None if the hub never saw it."""
    with transaction.atomic():
        source = SourceRecord.objects.select_for_update().filter(
            system=system, object_type=object_type, external_id=str(external_id)
        ).first()
        if source is None or source.is_deleted:
            return source
        source.is_deleted = True
        source.deleted_at = deleted_at or timezone.now()
        source._change_reason = reason
        source.save(update_fields=["is_deleted", "deleted_at", "last_changed_at"])
        if source.golden_record_id is not None:
            golden_record_source_removed(entity_type=source.entity_type, golden_pk=source.golden_record_id,
                                         reason=reason)
    return source


def golden_record_source_removed(*, entity_type: str, golden_pk: Any, reason: str) -> None:
    model = model_for(entity_type)
    record = model.objects.select_for_update().get(pk=golden_pk)
    if _active_sources(entity_type, golden_pk):
        golden_record_recompute(record=record, reason=reason)
        return
    if hasattr(record, "status") and "inactive" in {c[0] for c in model._meta.get_field("status").choices or []}:
        record.status = "inactive"
    record.version += 1
    record._change_reason = f"no active source left: {reason}"
    record.save()
    change_event_record(record=record, operation=ChangeOperation.DEACTIVATED, changed_fields=["status"],
                        reason=record._change_reason)


WAITING_FOR_A_REFERENCE = "lineage @? '$.* ? (exists(@.unresolved))'"


def unresolved_entity_types(entity_types: Sequence[str]) -> list[str]:
    """Those of the entity types with golden records still waiting for a referenced record, asked in one statement
    (the end of every pull asks, and almost always none waits), each through its table's partial index."""
    if not entity_types:
        return []
    tables = [model_for(entity_type)._meta.db_table for entity_type in entity_types]
    probes = [f"EXISTS (SELECT 1 FROM {table} WHERE {WAITING_FOR_A_REFERENCE} AND merged_into_id IS NULL)"  # noqa: S608
              for table in tables]  # table names and a constant condition only
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(probes))
        waiting = cursor.fetchone()
    return [entity_type for entity_type, any_ in zip(entity_types, waiting, strict=True) if any_]


def unresolved_references_recompute(*, entity_type: str, reason: str = "referenced record arrived") -> int:
    """Recompute the golden records still waiting for a referenced record; returns how many resolved."""
    model = model_for(entity_type)
    waiting = model.objects.filter(merged_into__isnull=True).extra(  # noqa: S610 (constant SQL, no input)
        where=[WAITING_FOR_A_REFERENCE]  # served by a partial index of the few such records (migration 0013)
    )
    resolved, after = 0, None
    while True:  # keyset batches: one plain query when none waits (the end of every pull asks)
        batch = list((waiting if after is None else waiting.filter(pk__gt=after)).order_by("pk")[:500])
        for record in batch:
            golden_record_recompute(record=record, reason=reason)
            record.refresh_from_db(fields=["lineage"])
            resolved += not any("unresolved" in entry for entry in record.lineage.values())
        if len(batch) < 500:
            return resolved
        after = batch[-1].pk


def golden_record_override_set(*, record: models.Model, attribute: str, value: Any, actor: str,
                               reason: str) -> list[str]:
    """Pin a steward's value for one attribute; it wins over every source until cleared."""
    model = type(record)
    if attribute not in model.SURVIVED_ATTRIBUTES:
        raise ValidationError({attribute: [f"not an attribute of a {model.ENTITY_TYPE} that survivorship sets"]})
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        locked.overrides = {**locked.overrides, attribute: {
            "value": value, "by": actor, "reason": reason, "at": timezone.now().isoformat(),
        }}
        locked.save(update_fields=["overrides"])
        return golden_record_recompute(record=locked, reason=f"{attribute} pinned by {actor}: {reason}")


def golden_record_override_clear(*, record: models.Model, attribute: str, actor: str, reason: str) -> list[str]:
    """Unpin an attribute: survivorship over the sources decides it again."""
    model = type(record)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        if attribute not in locked.overrides:
            raise ValidationError({attribute: ["no steward value is pinned on this attribute"]})
        locked.overrides = {a: o for a, o in locked.overrides.items() if a != attribute}
        locked.save(update_fields=["overrides"])
        return golden_record_recompute(record=locked, reason=f"{attribute} unpinned by {actor}: {reason}")


def source_record_attach(*, source_record: SourceRecord, record: models.Model, reason: str) -> list[str]:
    """Attach a source record to an existing golden record and recompute it."""
    with transaction.atomic():
        source_record.golden_record_id = record.pk
        source_record._change_reason = f"attached to {record.golden_id}: {reason}"
        source_record.save(update_fields=["golden_record_id", "last_changed_at"])
        return golden_record_recompute(record=record, reason=reason)
