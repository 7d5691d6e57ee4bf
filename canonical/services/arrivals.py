"""Source records arriving a page at a time: staged in a few statements, matched with the page's reads done once.

A pulled page is staged with one read of the rows the hub already holds and one insert of the new ones (with
their history). Its new and changed records are then matched in page order, each decided exactly as
``source_record_match`` decides it: the candidates, term frequencies and population that function would read
are read once for the page, and kept up to date in memory as each record is decided; the new golden records
it makes (rows, history, match views, decisions, change events) are written in bulk. Before a record whose
decision reads the database beyond that (one that refers to another record, one joining a golden record made
earlier in the page, one already attached) the pending writes are flushed, so every decision is the one the
record-at-a-time path makes. Call both inside the page's transaction; match holding its matching lock or its
claims on the match keys of the staged records (``source_records_prepare``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from canonical.choices import ChangeOperation, MatchOutcome
from canonical.models import ChangeEvent, ConnectedSystem, MatchDecision, MatchRecord, SourceRecord
from canonical.registry import model_for
from canonical.services.changes import change_event_build
from canonical.services.golden import (
    StageResult,
    _apply,
    _attribute_times,
    _survive,
    golden_record_validate,
    payload_digest,
)
from canonical.services.matching import (
    CANDIDATE_LIMIT,
    MATCH_VIEW_FIELDS,
    Matcher,
    Scored,
    _best_per_golden,
    _decide,
    common_names_drop,
    decision_build,
    key_counts,
    key_holders,
    match_view_build,
    matcher_for,
    most_similar,
    potential_match_open,
    score_against,
    similar_names,
    source_record_match,
    trigrams,
)
from canonical.services.recompute import golden_records_recompute, source_records_attach
from hub.db import history_rows_insert, json_safe, rows_insert, rows_update


@dataclass(frozen=True)
class Arrival:
    """One record as its platform sent it, to stage."""

    object_type: str
    external_id: str
    entity_type: str
    attributes: Mapping[str, Any]
    payload: Mapping[str, Any]
    source_modified_at: datetime | None = None
    # A record the hub itself wrote to the platform: a new row is staged attached to this golden record.
    golden_record_id: Any = None
    # payload_digest(payload), when the caller worked it out already (arrivals_changing does)
    digest: str = ""


@dataclass(frozen=True)
class Placement:
    """Where matching put a source record: its decision (None when it was already attached), or why it is
    parked (it refers to a record the hub has not seen yet, or its golden record would not be valid)."""

    source_record: SourceRecord
    decision: MatchDecision | None = None
    error: ValidationError | None = None


# --- staging -----------------------------------------------------------------------------------------------

def source_records_stage(*, system: ConnectedSystem, arrivals: Sequence[Arrival], reason: str,
                         new: bool = False, known: Mapping[tuple[str, str], Any] | None = None) -> list[StageResult]:
    """Stage a page of one system's records: what ``source_record_stage`` does to each, in a few statements.

    The same payload again is a no-op, an older copy is ignored (stale); new rows are inserted together and
    changed ones updated together, each with its history row but for a payload that changed and nothing the hub
    maps from it (the hub's own write read back, a field it does not map): the history of a copy records what the
    hub holds of it (its attributes, not the raw payload), and that did not change. A pull re-reads its overlap
    window every time, so most of a page is often the same payloads again: the rows held are read only as far as
    comparing them takes, unlocked, and those that differ from the page read again under a row lock (payloads are
    never read back). ``new``: the caller found none of the records held and the rows are not read again;
    ``known``: the caller found these held (``(object type, external id) -> pk``, arrivals_changing's ``held``)
    and no others, and only those rows are read, locked. A record another writer stages meanwhile is found by the
    insert and staged over its row, as without either."""
    for arrival in arrivals:
        model_for(arrival.entity_type)  # validates the entity type
    now = timezone.now()
    keyed = [((a.object_type, str(a.external_id)), a, a.digest or payload_digest(a.payload)) for a in arrivals]
    if new:
        held = {}
    elif known is not None:
        held = _locked(system, known.values())
    else:
        held = _held(system, keyed)
    results: list[StageResult] = []
    inserts: dict[tuple[str, str], SourceRecord] = {}
    changed: dict[Any, SourceRecord] = {}
    for key, arrival, digest in keyed:
        row = held.get(key)
        if row is None:
            attributes = json_safe(arrival.attributes)
            row = SourceRecord(system=system, object_type=key[0], external_id=key[1], entity_type=arrival.entity_type,
                               golden_record_id=arrival.golden_record_id, attributes=attributes,
                               payload=json_safe(arrival.payload), payload_hash=digest,
                               source_modified_at=arrival.source_modified_at,
                               attribute_times=_attribute_times({}, {}, attributes, None, arrival.source_modified_at))
            row._change_reason = reason
            held[key] = inserts[key] = row
            results.append(StageResult(row, created=True, changed=True))
            continue
        if row.payload_hash == digest and not row.is_deleted:
            results.append(StageResult(row, created=False, changed=False))
            continue
        if (arrival.source_modified_at is not None and row.source_modified_at is not None
                and arrival.source_modified_at < row.source_modified_at):
            results.append(StageResult(row, created=False, changed=False, stale=True))
            continue
        attributes = json_safe(arrival.attributes)
        same = attributes == row.attributes and not row.is_deleted
        row._payload_only = same  # its history records what the hub holds of it: that is unchanged
        row.attribute_times = _attribute_times(row.attributes, row.attribute_times, attributes,
                                               row.source_modified_at, arrival.source_modified_at)
        row.attributes, row.payload = attributes, json_safe(arrival.payload)
        row.payload_hash, row.source_modified_at = digest, arrival.source_modified_at
        row.is_deleted, row.deleted_at, row.last_changed_at = False, None, now
        row._change_reason = reason
        if key not in inserts:
            changed[row.pk] = row
        results.append(StageResult(row, created=False, changed=True, attributes_changed=not same))
    if inserts:
        inserted = rows_insert(SourceRecord, list(inserts.values()), ignore_conflicts=True)
        history_rows_insert(SourceRecord, [r for r in inserts.values() if r.pk in inserted])
        lost = {key for key, r in inserts.items() if r.pk not in inserted}
        if lost:  # another writer staged these first: take the update path against its rows, one by one
            results = _restage(system, arrivals, results, lost, reason)
    if changed:
        rows = list(changed.values())
        rows_update(SourceRecord, rows, ["attributes", "attribute_times", "payload", "payload_hash",
                                         "source_modified_at", "is_deleted", "deleted_at", "last_changed_at"])
        history_rows_insert(SourceRecord, [r for r in rows if not r._payload_only], update=True)
    return results


def source_records_repayload(*, system: ConnectedSystem, arrivals: Sequence[Arrival],
                             held: Mapping[tuple[str, str], Any]) -> set[tuple[str, str]]:
    """Of the arrivals whose rows the crosswalk holds (``held``: arrivals_changing's), those that change nothing the
    hub holds of a copy placed in a golden record but its payload (the hub's own write read back, a field the hub
    does not map), written in one statement without reading their rows: as source_records_stage would write them
    (payload, digest, timestamp, the attributes' times the copy had none of; no history row, no matching, no change
    to the golden record). The statement itself checks that the attributes held are the ones that arrived and that
    the arrival is not older than the copy, under the row's lock. Returns the (object type, external id) keys it
    wrote; the others are left to source_records_stage.

    Only copies whose attributes' times need nothing but the arrival's stamp take this way: every attribute has its
    time, or the copy has no timestamp of its own yet (one the hub wrote); the rest go the whole way."""
    rows = []
    for arrival in arrivals:
        key = (arrival.object_type, str(arrival.external_id))
        if key not in held or not arrival.digest:
            continue
        try:
            attributes = orjson.dumps(json_safe(arrival.attributes)).decode()
            payload = orjson.dumps(json_safe(arrival.payload)).decode()
        except (TypeError, orjson.JSONEncodeError):  # what orjson does not carry goes the whole way
            continue
        stamp = arrival.source_modified_at.isoformat() if arrival.source_modified_at else None
        rows.append((held[key], attributes, payload, arrival.digest, arrival.source_modified_at, stamp))
    if not rows:
        return set()
    rows.sort(key=lambda row: str(row[0]))  # rows locked in pk order, as the whole way locks them
    table = SourceRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS t SET payload = v.payload::jsonb, payload_hash = v.digest,
                    source_modified_at = v.modified, last_changed_at = %s,
                    attribute_times = CASE WHEN t.source_modified_at IS NULL THEN coalesce((
                        SELECT jsonb_object_agg(k, coalesce(t.attribute_times -> k, to_jsonb(v.stamp)))
                        FROM jsonb_object_keys(t.attributes) AS k
                        WHERE t.attribute_times ? k OR v.stamp IS NOT NULL), '{{}}'::jsonb)
                        ELSE t.attribute_times END
                FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::varchar[], %s::timestamptz[], %s::text[])
                    AS v(id, attributes, payload, digest, modified, stamp)
                WHERE t.id = v.id AND t.system_id = %s AND t.attributes = v.attributes::jsonb AND NOT t.is_deleted
                  AND t.golden_record_id IS NOT NULL AND t.payload_hash <> v.digest
                  AND (v.modified IS NULL OR t.source_modified_at IS NULL OR v.modified >= t.source_modified_at)
                  AND (t.source_modified_at IS NULL OR (
                      t.attribute_times ?& ARRAY(SELECT jsonb_object_keys(t.attributes))
                      AND t.attributes ?& ARRAY(SELECT jsonb_object_keys(t.attribute_times))))
                RETURNING t.object_type, t.external_id""",  # noqa: S608 (table name only)
            [timezone.now(), *map(list, zip(*rows, strict=True)), system.pk])
        return {(object_type, external_id) for object_type, external_id in cursor.fetchall()}


@dataclass(frozen=True)
class Changing:
    arrivals: list[Arrival]  # with their digests
    held: dict[tuple[str, str], Any]  # the rows held of these arrivals, as looked: (object type, external id) -> pk

    @property
    def new(self) -> bool:
        """None of them is held (as source_records_stage's ``new`` asks)."""
        return not self.held


def arrivals_changing(*, system: ConnectedSystem, arrivals: Sequence[Arrival]) -> Changing:
    """The arrivals that may change what the hub holds: new ones, a payload other than the one held, a record held
    as deleted. Read without any lock, and safe to act on: an arrival whose payload the hub holds already is a
    no-op whatever a concurrent writer does next (it is as if it came just before). A pull re-reads its overlap
    window every time; a page found here to change nothing need take neither the matching lock nor a row lock."""
    keys = {(a.object_type, str(a.external_id)) for a in arrivals}
    if not keys:
        return Changing([], {})
    held = {(o, e): (pk, digest, deleted) for pk, o, e, digest, deleted in _rows(system, keys).values_list(
        "pk", "object_type", "external_id", "payload_hash", "is_deleted")}
    changing, pks = [], {}
    for arrival in arrivals:
        key, digest = (arrival.object_type, str(arrival.external_id)), payload_digest(arrival.payload)
        row = held.get(key)
        if row is not None and row[1:] == (digest, False):
            continue
        changing.append(replace(arrival, digest=digest))
        if row is not None:
            pks[key] = row[0]
    return Changing(changing, pks)


def _rows(system: ConnectedSystem, keys: set[tuple[str, str]]) -> models.QuerySet:
    """The system's source records with these (object type, external id) keys."""
    return SourceRecord.objects.filter(system=system, object_type__in={k[0] for k in keys},
                                       external_id__any=sorted({k[1] for k in keys}))


_COMPARED = ("id", "system_id", "object_type", "external_id", "entity_type", "golden_record_id", "payload_hash",
             "is_deleted", "source_modified_at")


def _held(system: ConnectedSystem, keyed: Sequence[tuple[tuple[str, str], Arrival, str]]) -> dict[tuple, SourceRecord]:
    """The page's rows the crosswalk holds, as far as telling whether the page changes them (the rest of each row
    is read if asked for); those it changes read again whole but for the payload, locked."""
    if not keyed:
        return {}
    rows = _rows(system, {key for key, _, _ in keyed}).only(*_COMPARED)
    held = {(r.object_type, r.external_id): r for r in rows}
    differ = [held[key].pk for key, _, digest in keyed
              if key in held and (held[key].payload_hash != digest or held[key].is_deleted)]
    held.update(_locked(system, differ))
    for row in held.values():
        row.system = system
    return held


def _locked(system: ConnectedSystem, pks: Iterable[Any]) -> dict[tuple, SourceRecord]:
    """Rows of the crosswalk read whole but for the payload, locked (in pk order: two pages cannot deadlock)."""
    pks = list(pks)
    if not pks:
        return {}
    locked = SourceRecord.objects.select_for_update().defer("payload").filter(pk__any=pks).order_by("pk")
    held = {(r.object_type, r.external_id): r for r in locked}
    for row in held.values():
        row.system = system
    return held


def _restage(system: ConnectedSystem, arrivals: Sequence[Arrival], results: list[StageResult],
             lost: set[tuple[str, str]], reason: str) -> list[StageResult]:
    """The arrivals whose insert found a row another writer staged first (a pull reading back a record while
    the hub's write of it is recorded, say), staged again over those rows, together: the insert waited for that
    writer, so its rows are there to read now."""
    again = [a for a in arrivals if (a.object_type, str(a.external_id)) in lost]
    staged = iter(source_records_stage(system=system, arrivals=again, reason=reason))
    return [next(staged) if (a.object_type, str(a.external_id)) in lost else result
            for a, result in zip(arrivals, results, strict=True)]


# --- new golden records -------------------------------------------------------------------------------------

def golden_record_build(*, model: type[models.Model], sources: Sequence[SourceRecord],
                        reason: str) -> tuple[models.Model, list[str]]:
    """A golden record built from its sources by survivorship, as golden_record_create makes it, not written yet
    (golden_records_write), and the attributes it sets. Raises ValidationError when it would not be valid."""
    record = model()
    try:
        values, lineage = _survive(record, sources)
        _apply(record, values)
        record.lineage = lineage
        golden_record_validate(record)  # its id is a fresh UUID: not asked of the database
    except ValidationError as exc:
        raise ValidationError({"source": [f"cannot build a {model.ENTITY_TYPE} golden record: {exc}"]}) from exc
    record._change_reason = reason
    return record, list(values)


def golden_records_write(*, model: type[models.Model],
                         built: Sequence[tuple[models.Model, Sequence[SourceRecord], Sequence[str]]],
                         reason: str) -> None:
    """Write built golden records (``(record, its sources, the attributes it sets)``) in a few statements: the
    rows and their history, their sources' links (with history) and a change event each."""
    if not built:
        return
    records = [record for record, _, _ in built]
    rows_insert(model, records)
    history_rows_insert(model, records)
    now = timezone.now()
    sources = []
    for record, members, _ in built:
        for source in members:
            source.golden_record_id, source.last_changed_at = record.pk, now
            source._change_reason = f"attached to {record.golden_id}: {reason}"
            sources.append(source)
    rows_update(SourceRecord, sources, ["golden_record_id", "last_changed_at"])
    history_rows_insert(SourceRecord, sources, update=True)
    rows_insert(ChangeEvent, [change_event_build(record=record, operation=ChangeOperation.CREATED,
                                                 changed_fields=changed, reason=reason)
                              for record, _, changed in built])


# --- matching ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """Staged source records as matching will see them, worked out before any lock is taken: their match views
    (by source record pk) and every key their matching may look up (by entity type), to claim
    (``match_claims_acquire``). Entity types matched otherwise (revenue facts) have neither."""

    views: dict[Any, MatchRecord]
    keys: dict[str, set[str]]


def source_records_prepare(*, sources: Sequence[SourceRecord]) -> Prepared:
    """The match views and match keys (blocking keys and name keys) of staged source records (see Prepared)."""
    views: dict[Any, MatchRecord] = {}
    keys: dict[str, set[str]] = {}
    for entity_type in dict.fromkeys(s.entity_type for s in sources):
        matcher = matcher_for(entity_type)
        if matcher is None:
            continue
        found = keys.setdefault(entity_type, set())
        for source in sources:
            if source.entity_type == entity_type:
                view = views[source.pk] = match_view_build(matcher, source)
                found.update(view.block_keys, view.name_keys)
    return Prepared(views, keys)


def source_records_match(*, sources: Sequence[SourceRecord], reason: str,
                         probe: Mapping[str, frozenset[str] | None] | None = None,
                         prepared: Prepared | None = None) -> list[Placement]:
    """Match staged source records in order, each as ``source_record_match`` would (same decisions, same
    golden records), reading candidates once per page and writing new golden records in bulk. With ``probe``
    (the keys the transaction claimed, by entity type; None for a type whose lock it holds), no other name key is
    looked up; with ``prepared`` (the sources' own, as staged), their match views are not worked out again."""
    pages: dict[str, _Page | None] = {}
    for entity_type in dict.fromkeys(s.entity_type for s in sources):
        matcher = matcher_for(entity_type)
        pages[entity_type] = _Page(matcher, [s for s in sources if s.entity_type == entity_type], reason,
                                   probe=probe.get(entity_type, frozenset()) if probe is not None else None,
                                   views=prepared.views if prepared is not None else None) \
            if matcher else None
    placements = []
    for source in sources:
        page = pages[source.entity_type]
        if page is None:
            placements.append(_one_at_a_time(source, reason))
            continue
        placements.append(page.place(source))
    for page in pages.values():
        if page is not None:
            page.flush()
    return [_settled(placement, pages[placement.source_record.entity_type]) for placement in placements]


def _settled(placement: Placement, page: _Page | None) -> Placement:
    """A placement as the flushes left it: refused when its attach or its golden record's recompute failed."""
    source = placement.source_record
    if page is None or placement.error is not None:
        return placement
    if source.pk in page.refused:
        return Placement(source, error=page.refused[source.pk])
    if placement.decision is None and source.golden_record_id in page.errors:
        return Placement(source, error=page.errors[source.golden_record_id])
    return placement


def _one_at_a_time(source: SourceRecord, reason: str) -> Placement:
    try:
        with transaction.atomic():
            return Placement(source, source_record_match(source_record=source, reason=reason))
    except ValidationError as exc:
        return Placement(source, error=exc)


def _references(source: SourceRecord) -> list[tuple[str, str, str]]:
    """(system key, object type, external id) of each record the source refers to."""
    return [(v.get("system") or source.system.key, str(v.get("object_type")), str(v.get("external_id")))
            for v in source.attributes.values() if isinstance(v, Mapping)]


@dataclass
class _Pending:
    goldens: list[tuple[models.Model, SourceRecord, list[str]]] = field(default_factory=list)
    attaches: dict[str, list[tuple[SourceRecord, Any]]] = field(default_factory=dict)  # outcome -> (source, golden)
    recompute: set[Any] = field(default_factory=set)  # golden records of attached sources that changed
    views: dict[Any, MatchRecord] = field(default_factory=dict)
    decisions: dict[Any, MatchDecision] = field(default_factory=dict)


class _Page:
    """One entity type's records of a page, and what matching reads of the database, kept in memory."""

    def __init__(self, matcher: Matcher, sources: Sequence[SourceRecord], reason: str, *,
                 probe: frozenset[str] | None = None, views: Mapping[Any, MatchRecord] | None = None) -> None:
        self.matcher, self.reason, self.probe = matcher, reason, probe
        self.prepared = dict(views or {})  # worked out before the page's locks: each used once, then recomputed
        self.model = model_for(matcher.entity_type)
        self.page_ids = [s.pk for s in sources]
        self.page_set = set(self.page_ids)
        self.pending = _Pending()
        self.pending_goldens: set[Any] = set()
        self.pending_sources: set[tuple[str, str, str]] = set()
        # Found at a flush: sources not attached after all (their golden record would not be valid with them), and
        # golden records of changed sources that would not be valid any more (left as they were).
        self.refused: dict[Any, ValidationError] = {}
        self.errors: dict[Any, ValidationError] = {}
        self.tf_fields = [f for f in matcher.spec.fields if f.tf_adjust]
        # Match views matching may read: the page's own (as they are before the page), every live one sharing a
        # key with the page, and the live ones named like a page record that shares no key with anything.
        self.views: dict[Any, MatchRecord] = {}
        self.index: dict[str, set[Any]] = defaultdict(set)
        self.names: dict[str, set[Any]] = defaultdict(set)  # name key -> the page's live views holding it
        self.grams: dict[Any, frozenset[str]] = {}
        self._remember(MatchRecord.objects.filter(pk__any=self.page_ids))
        # The page's records the database holds views of (changed ones): lookups leave them out, their views here
        # being the ones that count. New records have none, so there is nothing to send for them.
        self.held_ids = [pk for pk in self.page_ids if pk in self.views]
        self.upfront = {s.pk: self._view(s) for s in sources if s.golden_record_id is None}
        self.counts: dict[str, int] = {}
        self.population: int | None = None
        self.similar_before: dict[Any, list[MatchRecord]] = {}
        self.fetched_keys: set[str] = set()
        if self.upfront:  # a page of changes to attached records only (read back, say) needs none of this
            self._prefetch(matcher)

    def _prefetch(self, matcher: Matcher) -> None:
        self._fetch_keys({k for view in self.upfront.values() for k in view.block_keys})
        self._fetch_counts({k for view in self.upfront.values() for k in self._tf_keys(view)})
        if self.tf_fields and not matcher.population:
            self.population = MatchRecord.objects.filter(entity_type=matcher.entity_type, is_active=True).count()
        self._fetch_similar([v for v in self.upfront.values() if len(v.name_key) >= 3 and not self._keyed(v)])

    # -- reads, once per page ---------------------------------------------------------------------------------
    def _view(self, source: SourceRecord) -> MatchRecord:
        view = self.prepared.pop(source.pk, None)
        if view is not None and not _references(source):  # a reference resolves to what the page placed so far
            return view
        return match_view_build(self.matcher, source)

    def _tf_keys(self, view: MatchRecord) -> list[str]:
        """The keys whose counts scoring reads for this record (as score_against builds them)."""
        return [f"{f.name}={view.values[f.name]}" for f in self.tf_fields if view.values.get(f.name)]

    def _remember(self, views: Any) -> None:
        for view in views:
            if view.pk not in self.views:
                self._add(view)

    def _add(self, view: MatchRecord) -> None:
        self.views[view.pk] = view
        for key in view.block_keys:
            self.index[key].add(view.pk)
        if view.pk in self.page_set and self._live(view, None):
            self.grams[view.pk] = trigrams(view.name_key)
            for key in view.name_keys:
                self.names[key].add(view.pk)

    def _drop(self, view: MatchRecord) -> None:
        for key in view.block_keys:
            self.index[key].discard(view.pk)
        if self.grams.pop(view.pk, None) is not None:
            for key in view.name_keys:
                self.names[key].discard(view.pk)
        del self.views[view.pk]

    def _fetch_keys(self, keys: set[str]) -> None:
        """The live views holding each key (up to the candidate limit each), other than the page's own."""
        keys = keys - self.fetched_keys
        if not keys:
            return
        self.fetched_keys.update(keys)
        holders = key_holders(self.matcher.entity_type, keys, exclude=self.held_ids)
        ids = {i for held in holders.values() for i in held} - self.views.keys()
        self._remember(MatchRecord.objects.filter(pk__any=list(ids)))

    def _fetch_counts(self, keys: set[str]) -> None:
        """How many active views hold each key, as the database says now (call with nothing pending)."""
        self.counts.update(key_counts(self.matcher.entity_type, keys - self.counts.keys()))

    def _fetch_similar(self, views: Sequence[MatchRecord]) -> None:
        """Live views (other than the page's own) named like each view, up to the candidate limit each."""
        views = [v for v in views if v.pk not in self.similar_before]
        if not views:
            return
        found = similar_names(self.matcher.entity_type, views, exclude=self.held_ids, probe=self.probe)
        self._remember(v for similar in found.values() for v in similar)
        for view in views:
            self.similar_before[view.pk] = [self.views[v.pk] for v in found.get(view.pk, [])]

    # -- what the database would answer now ----------------------------------------------------------------
    @staticmethod
    def _live(view: MatchRecord, own: Any) -> bool:
        return view.pk != own and view.is_active and view.golden_record_id is not None

    def _keyed(self, view: MatchRecord) -> list[MatchRecord]:
        found: dict[Any, MatchRecord] = {}
        for key in view.block_keys:
            for pk in self.index.get(key, ()):
                candidate = self.views[pk]
                if self._live(candidate, view.pk):
                    found.setdefault(pk, candidate)
        return list(found.values())[:CANDIDATE_LIMIT]

    def _similar(self, view: MatchRecord) -> list[MatchRecord]:
        self._fetch_similar([view])
        before = [v for v in self.similar_before[view.pk] if self._live(v, view.pk)]
        near = {pk for key in view.name_keys for pk in self.names.get(key, ())} - {view.pk}
        ours = [self.views[pk] for pk in most_similar(trigrams(view.name_key), self.grams, near)]
        return (before + ours)[:CANDIDATE_LIMIT]

    def _tally(self, old: MatchRecord | None, new: MatchRecord | None) -> None:
        """A view replaced by another (or added): move the counts matching reads from the database."""
        for view, step in ((old, -1), (new, 1)):
            if view is None or not view.is_active:
                continue
            for key in view.block_keys:
                if key in self.counts:
                    self.counts[key] += step
            if self.population is not None:
                self.population += step

    def _replace(self, new: MatchRecord) -> MatchRecord | None:
        old = self.views.get(new.pk)
        if old is not None:
            self._drop(old)
        self._add(new)
        self._tally(old, new)
        return old

    def _restore(self, new: MatchRecord, old: MatchRecord | None) -> None:
        self._drop(new)
        self._tally(new, old)
        if old is not None:
            self._add(old)

    # -- deciding -----------------------------------------------------------------------------------------------
    def place(self, source: SourceRecord) -> Placement:
        if source.golden_record_id is not None:
            return self._rematch(source)
        references = _references(source)
        if self.pending_sources.intersection(references):  # what it refers to was placed earlier in the page
            self.flush()
        view = self._view(source) if references else self.upfront.get(source.pk) or self._view(source)
        if set(self._tf_keys(view)) - self.counts.keys():
            self.flush()
            self._fetch_counts(set(self._tf_keys(view)))
        self._fetch_keys(set(view.block_keys))
        old = self._replace(view)
        best, outcome = self._judge(view)
        if outcome in (MatchOutcome.AUTO_MATCH, MatchOutcome.DETERMINISTIC):
            # Attached at the next flush, with every other attach of the page, after the page's new golden records
            # (one of which it may join, or refer to) are written.
            golden_pk = best.golden_record_id
            self.pending.attaches.setdefault(outcome, []).append((source, golden_pk))
            self.pending_sources.add((source.system.key, source.object_type, source.external_id))
        else:
            try:
                record, changed = self._build(source)  # writes nothing until the flush
            except ValidationError as exc:
                self._restore(view, old)
                return Placement(source, error=exc)
            golden_pk = record.pk
            if outcome == MatchOutcome.REVIEW:
                potential_match_open(entity_type=source.entity_type, record=golden_pk, other=best.golden_record_id,
                                     probability=best.probability, contributions=best.contributions)
            self.pending.goldens.append((record, source, changed))
            self.pending_goldens.add(golden_pk)
            self.pending_sources.add((source.system.key, source.object_type, source.external_id))
        self._drop(view)
        view.golden_record_id = source.golden_record_id = golden_pk
        self._add(view)
        self.pending.views[view.pk] = view
        decision = decision_build(source, outcome, golden_pk, best, self.reason, self.matcher.version)
        self.pending.decisions[source.pk] = decision
        return Placement(source, decision)

    def _judge(self, view: MatchRecord) -> tuple[Scored | None, str]:
        """The best candidate and the outcome, as source_record_match finds them (reads only)."""
        candidates, name_only = self._keyed(view), False
        if not candidates and len(view.name_key) >= 3:
            candidates, name_only = self._similar(view), True
        matcher = self.matcher
        if self.population is not None:
            matcher = replace(matcher, population=max(self.population, 1))
        ranked = _best_per_golden(
            score_against(matcher, view.values, candidates, counts=lambda keys: [self.counts[k] for k in keys]), set())
        best = ranked[0] if ranked else None
        return best, _decide(self.matcher, best, name_only=name_only)

    def _build(self, source: SourceRecord) -> tuple[models.Model, list[str]]:
        """A golden record from the source alone, as golden_record_create makes it (written at the next flush),
        and the attributes it sets."""
        return golden_record_build(model=self.model, sources=[source], reason=self.reason)

    def _rematch(self, source: SourceRecord) -> Placement:
        """An attached source changed: its match view is refreshed now, its golden record recomputed at the next
        flush (with every other one of the page)."""
        view = self._view(source)
        self._replace(view)
        self.pending.views[view.pk] = view
        self.pending.recompute.add(source.golden_record_id)
        return Placement(source, None)

    # -- writing ----------------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what the page decided so far: golden records, their sources' links, views, decisions, events."""
        pending, self.pending = self.pending, _Pending()
        self.pending_goldens.clear()
        self.pending_sources.clear()
        if pending.goldens:
            golden_records_write(model=self.model, built=[(record, [source], changed)
                                                          for record, source, changed in pending.goldens],
                                 reason=self.reason)
        recomputed: set[Any] = set()
        for outcome, pairs in pending.attaches.items():
            attached = source_records_attach(pairs=pairs, entity_type=self.matcher.entity_type,
                                             reason=f"{self.reason}: {outcome}")
            recomputed.update(attached)
            self._refused(pending, [s for s, pk in pairs if pk in attached.errors], attached.errors, by_golden=pairs)
        again = golden_records_recompute(entity_type=self.matcher.entity_type,
                                         pks=sorted(pending.recompute - recomputed, key=str), reason=self.reason)
        self.errors.update(again.errors)
        if pending.views:
            common_names_drop(list(pending.views.values()))
            rows_insert(MatchRecord, list(pending.views.values()), unique_fields=["source_record"],
                        update_fields=MATCH_VIEW_FIELDS)
        if pending.decisions:
            rows_insert(MatchDecision, list(pending.decisions.values()))

    def _refused(self, pending: _Pending, sources: Sequence[SourceRecord], errors: Mapping[Any, ValidationError],
                 by_golden: Sequence[tuple[SourceRecord, Any]]) -> None:
        """Sources whose golden record would not be valid with them: not attached after all. They stay where they
        were (parked, like a record the one-at-a-time path could not attach), with no decision."""
        golden_of = {source.pk: pk for source, pk in by_golden}
        for source in sources:
            source.golden_record_id = None
            view = pending.views.pop(source.pk, None)
            if view is not None:
                self._drop(view)
            pending.decisions.pop(source.pk, None)
            self.refused[source.pk] = errors[golden_of[source.pk]]
