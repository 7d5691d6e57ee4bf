"""Matching inside the hub: keep each source record's match view, and match a record on arrival.

The online path uses the batch engine's own normaliser, comparators and scoring (canonical.matching),
with candidates found through the Postgres blocking indexes (GIN on block keys, trigram on the name),
so matching one record never scans the table, and online and batch reach the same decisions.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q

from canonical.choices import MatchOutcome, PotentialMatchStatus
from canonical.matching import normalise
from canonical.matching.blocking import NAME_KEY_MARK, TOKEN_BLOCK_CAP, name_keys
from canonical.matching.compare import LEVELS, MISSING, prepare_column
from canonical.matching.engine import normalise_values, score
from canonical.matching.scoring import Model, default_m, default_u
from canonical.matching.spec import MatchSpec, Thresholds, parse_spec
from canonical.models import (
    MatchClaim,
    MatchCommonName,
    MatchConfiguration,
    MatchDecision,
    MatchKey,
    MatchRecord,
    NotAMatch,
    PotentialMatch,
    RevenueEvent,
    SourceRecord,
)
from canonical.registry import model_for
from canonical.services.golden import (
    golden_record_create,
    golden_record_recompute,
    reference_resolve,
    source_record_attach,
)
from canonical.services.revenue import revenue_event_from_source
from hub import correlation
from hub.db import rows_insert

SEED_PATH = Path(__file__).resolve().parent.parent / "seeds" / "match_rules.json"
CANDIDATE_LIMIT = 100
CLAIM_LIMIT = 2_000  # match keys a page claims one by one; a page with more takes the entity type's lock whole
TRIGRAM_THRESHOLD = 0.6


@dataclass(frozen=True)
class Matcher:
    """One entity type's rules, learnt weights and thresholds, ready to score."""

    entity_type: str
    spec: MatchSpec
    sources: Mapping[str, tuple[str, ...]]  # field -> the attributes it reads, first present wins
    model: Model
    thresholds: Thresholds
    version: int
    population: int = 0

    @property
    def name_field(self) -> str | None:
        return next((f.name for f in self.spec.fields if f.type in {"company_name", "name", "string"}), None)


def hub_spec(raw: Mapping[str, Any]) -> tuple[MatchSpec, dict[str, tuple[str, ...]]]:
    """Parse a hub rule set. Term-frequency adjustment is kept only for fields that are a blocking key on
    their own: their value counts are then served by the same index, online and in batch alike."""
    spec = parse_spec(raw)
    single_keys = {rule[0] for rule in (spec.blocking or ()) if len(rule) == 1}
    fields = tuple(replace(f, tf_adjust=f.tf_adjust and f.name in single_keys) for f in spec.fields)
    sources = {f["name"]: tuple(f.get("from") or [f["name"]]) for f in raw["fields"]}
    return replace(spec, fields=fields), sources


def seed_rules() -> dict[str, dict]:
    return json.loads(SEED_PATH.read_text())


def match_configuration_get(entity_type: str) -> MatchConfiguration | None:
    config = MatchConfiguration.objects.filter(entity_type=entity_type).first()
    if config is None:
        raw = seed_rules().get(entity_type)
        if raw is None:
            return None
        config, _ = MatchConfiguration.objects.get_or_create(entity_type=entity_type, defaults={"spec": raw})
    return config


def matcher_from(config: MatchConfiguration, spec_override: Mapping[str, Any] | None = None) -> Matcher:
    spec, sources = hub_spec(spec_override or config.spec)
    params = config.parameters or {}
    if params.get("model") and params["model"].get("fields") == list(spec.field_names) and spec_override is None:
        model = Model.from_dict(params["model"])
    else:
        levels = [LEVELS[f.type] for f in spec.fields]
        model = Model(
            list(spec.field_names), levels,
            [np.asarray(f.m) if f.m else default_m(len(lv)) for f, lv in zip(spec.fields, levels, strict=True)],
            [np.asarray(f.u) if f.u else default_u(len(lv)) for f, lv in zip(spec.fields, levels, strict=True)],
            0.1, [f.tf_adjust for f in spec.fields],
        )
    # Fixed thresholds in the rules win; "auto" uses the ones the last training chose.
    thresholds = spec.thresholds or Thresholds(**params.get("thresholds", {"match": 0.95, "review": 0.3}))
    return Matcher(config.entity_type, spec, sources, model, thresholds, config.version,
                   int(params.get("trained_on") or 0) if spec_override is None else 0)


def matcher_for(entity_type: str) -> Matcher | None:
    config = match_configuration_get(entity_type)
    return matcher_from(config) if config else None


# --- the match view of a source record -----------------------------------------------------------

def _raw(source: SourceRecord, attribute: str) -> str:
    value = source.attributes.get(attribute)
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        # A reference to a related record: compare the golden record it resolves to.
        golden = reference_resolve(value=value, system_id=source.system_id)
        return str(golden) if golden else ""
    return str(value)


def match_values(matcher: Matcher, source: SourceRecord) -> dict[str, str]:
    """Each compared field's normalised value (references resolved to golden record ids)."""
    raw = {}
    for f in matcher.spec.fields:
        raw[f.name] = next((v for a in matcher.sources[f.name] if (v := _raw(source, a))), "")
    values = {}
    for f in matcher.spec.fields:
        country = None
        if f.country_field:
            country = [normalise.country(raw.get(f.country_field) or source.attributes.get(f.country_field) or "")]
        values[f.name] = normalise_values(f.type, [raw[f.name]], country)[0]
    return values


def block_keys(spec: MatchSpec, values: Mapping[str, str]) -> list[str]:
    keys = []
    for rule in spec.blocking or ():
        parts = [values.get(name, "") for name in rule]
        if all(parts):
            keys.append("|".join(f"{name}={part}" for name, part in zip(rule, parts, strict=True)))
    return keys


# A match view's fields as matching writes them (all but its source record, the key).
MATCH_VIEW_FIELDS = ["entity_type", "golden_record_id", "values", "block_keys", "name_key", "name_keys", "is_active"]


def match_view_build(matcher: Matcher, source: SourceRecord) -> MatchRecord:
    """A source record as matching sees it (not saved; its name keys all there, common ones too: see
    common_names_drop)."""
    values = match_values(matcher, source)
    name = _name_key(matcher, values)
    return MatchRecord(source_record_id=source.pk, entity_type=matcher.entity_type,
                       golden_record_id=source.golden_record_id, values=values,
                       block_keys=block_keys(matcher.spec, values), name_key=name,
                       name_keys=name_keys(name), is_active=not source.is_deleted)


def match_record_refresh(*, source_record: SourceRecord, matcher: Matcher) -> MatchRecord:
    view = match_view_build(matcher, source_record)
    common_names_drop([view])
    record, _ = MatchRecord.objects.update_or_create(
        source_record=source_record,
        defaults={name: getattr(view, name) for name in MATCH_VIEW_FIELDS},
    )
    return record


def match_views_write(*, sources: Sequence[SourceRecord], matcher: Matcher | None = None) -> None:
    """Write the match views of source records placed without matching, or of any records to index again, in one
    statement: later arrivals and re-matches see them like any other copy. ``matcher``: the rules to write them by
    (the sources all of its entity type), not the entity type's own."""
    views = []
    for entity_type in dict.fromkeys(s.entity_type for s in sources):
        rules = matcher if matcher is not None else matcher_for(entity_type)
        if rules is not None:
            views += [match_view_build(rules, s) for s in sources if s.entity_type == entity_type]
    common_names_drop(views)
    rows_insert(MatchRecord, views, unique_fields=["source_record"], update_fields=MATCH_VIEW_FIELDS)


def copy_views_write(*, sources: Sequence[SourceRecord]) -> None:
    """The match views of copies the hub wrote to a platform, attached to the golden record they copy: only of
    those whose golden record has no live view yet.

    Such a copy holds what the hub wrote, its golden record's own values as the platform maps them, so the view
    the golden record has finds everything the copy's would (the same record, by the same keys): writing it too
    cost a view and its keys per record delivered, and counted each delivered client once more in every key's
    term frequency. A golden record about to lose its only live view (a steward moving a copy out, a re-match)
    has its copies' views written first (``golden_views_complete``)."""
    viewed = _viewed({(s.entity_type, s.golden_record_id) for s in sources if s.golden_record_id is not None})
    match_views_write(sources=[s for s in sources if (s.entity_type, s.golden_record_id) not in viewed])


def golden_views_complete(*, entity_type: str, golden_pks: Iterable[Any] | None = None) -> int:
    """Write the missing match views of the active sources of these golden records (of every golden record of the
    entity type without ``golden_pks``): before a source is moved out of a golden record, or sources re-matched,
    every copy must be seen by matching, each by its own view (see ``copy_views_write``). Returns how many."""
    bare = SourceRecord.objects.filter(entity_type=entity_type, is_deleted=False, golden_record_id__isnull=False,
                                       match_record__isnull=True)
    if golden_pks is not None:
        pks = [pk for pk in set(golden_pks) if pk is not None]
        if not pks:
            return 0
        bare = bare.filter(golden_record_id__any=pks)
    written = 0
    rows = bare.select_related("system").defer("payload").order_by("pk").iterator(chunk_size=VIEWS_CHUNK)
    while chunk := list(itertools.islice(rows, VIEWS_CHUNK)):  # a whole load's copies may be missing theirs
        match_views_write(sources=chunk)
        written += len(chunk)
    return written


VIEWS_CHUNK = 2000


def _viewed(goldens: set[tuple[str, Any]]) -> set[tuple[str, Any]]:
    """Of these (entity type, golden record pk), those with a live match view."""
    found: set[tuple[str, Any]] = set()
    for entity_type in {t for t, _ in goldens}:
        pks = [pk for t, pk in goldens if t == entity_type]
        found.update((entity_type, pk) for pk in MatchRecord.objects.filter(
            entity_type=entity_type, golden_record_id__any=pks, is_active=True)
            .values_list("golden_record_id", flat=True).distinct())
    return found


def _name_key(matcher: Matcher, values: Mapping[str, str]) -> str:
    name_field = matcher.name_field
    return values.get(name_field, "")[:300] if name_field else ""


# --- candidates: b-tree probes of the match keys -------------------------------------------------

def key_holders(entity_type: str, keys: Iterable[str], *, exclude: Sequence[Any] = (),
                limit: int = CANDIDATE_LIMIT, text: bool = False) -> dict[str, list[Any]]:
    """The live match views (active, in a golden record) holding each key, up to ``limit`` a key, other than
    the ``exclude``d: one statement, one index probe per key. With ``text``, their ids as strings (for a caller
    that only sets and compares them: a string hashes once, a UUID at every lookup, in Python)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    record_id = "m.record_id::text" if text else "m.record_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT k.key, {record_id} FROM unnest(%s::varchar[]) AS k(key)
                CROSS JOIN LATERAL (SELECT record_id FROM {MatchKey._meta.db_table}
                    WHERE entity_type = %s AND key = k.key AND golden_record_id IS NOT NULL
                      AND NOT (record_id = ANY(%s::uuid[])) LIMIT %s) AS m""",  # noqa: S608 (table name only)
            [keys, entity_type, [pk for pk in exclude if pk is not None], limit])
        found: dict[str, list[Any]] = defaultdict(list)
        for key, record_id in cursor.fetchall():
            found[key].append(record_id)
    return found


def key_counts(entity_type: str, keys: Iterable[str], *, cap: int | None = None) -> dict[str, int]:
    """How many active match views hold each key (term frequencies); with ``cap``, counting stops past it."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    table = MatchKey._meta.db_table
    with connection.cursor() as cursor:
        if cap is None:
            cursor.execute(f"SELECT key, count(*) FROM {table} WHERE entity_type = %s AND key = ANY(%s) "  # noqa: S608
                           "GROUP BY key", [entity_type, keys])
        else:
            cursor.execute(
                f"""SELECT k.key, (SELECT count(*) FROM (SELECT 1 FROM {table}
                        WHERE entity_type = %s AND key = k.key LIMIT %s) AS held)
                    FROM unnest(%s::varchar[]) AS k(key)""",  # noqa: S608 (table name only)
                [entity_type, cap + 1, keys])
        counted = dict(cursor.fetchall())
    return {key: counted.get(key, 0) for key in keys}


# --- name keys too common to identify a name ----------------------------------------------------------------

def common_names(entity_type: str, keys: Iterable[str]) -> set[str]:
    """Those of the name keys known to be too common to identify a name (MatchCommonName): never looked up."""
    keys = sorted({key for key in keys if key.startswith(NAME_KEY_MARK)})
    if not keys:
        return set()
    return set(MatchCommonName.objects.filter(entity_type=entity_type, key__any=keys).values_list("key", flat=True))


def common_names_count(entity_type: str, keys: Iterable[str]) -> tuple[set[str], set[str]]:
    """(common, found): those of the name keys too common to identify a name, known (MatchCommonName) or held by
    more than TOKEN_BLOCK_CAP live views now, and those of them found so now (for common_names_record)."""
    keys = {key for key in keys if key.startswith(NAME_KEY_MARK)}
    known = common_names(entity_type, keys)
    counts = key_counts(entity_type, keys - known, cap=TOKEN_BLOCK_CAP)
    found = {key for key, n in counts.items() if n > TOKEN_BLOCK_CAP}
    return known | found, found


def common_names_record(entity_type: str, keys: Iterable[str]) -> None:
    """Remember name keys found held by more than TOKEN_BLOCK_CAP live views (the caller counted them). In one
    order (sorted), so two writers of the same keys wait for one another one way only."""
    keys = sorted(set(keys))
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {MatchCommonName._meta.db_table} (entity_type, key) "  # noqa: S608 (table)
                           "SELECT %s, k FROM unnest(%s::varchar[]) WITH ORDINALITY AS u(k, n) ORDER BY n "
                           "ON CONFLICT DO NOTHING", [entity_type, keys])


def common_names_in(views: Sequence[MatchRecord]) -> set[str]:
    """The name keys more than TOKEN_BLOCK_CAP of these views (about to be live together) hold."""
    held = Counter(key for view in views for key in view.name_keys)
    return {key for key, n in held.items() if n > TOKEN_BLOCK_CAP}


def common_names_drop(views: Sequence[MatchRecord], common: Mapping[str, set[str]] | None = None) -> None:
    """Leave out of each view's name keys those too common to identify a name (``common`` by entity type, or
    MatchCommonName's), before the views are written: no lookup would read their MatchKey rows."""
    if common is None:
        common = {}
        for entity_type in {view.entity_type for view in views}:
            common[entity_type] = common_names(
                entity_type, {k for view in views if view.entity_type == entity_type for k in view.name_keys})
    for view in views:
        dropped = common.get(view.entity_type)
        if dropped and not dropped.isdisjoint(view.name_keys):
            view.name_keys = [key for key in view.name_keys if key not in dropped]


def _value_counts(matcher: Matcher, keys: Sequence[str]) -> list[int]:
    counts = key_counts(matcher.entity_type, keys)
    return [counts[key] for key in keys]


def candidate_queryset(matcher: Matcher, record: MatchRecord) -> models.QuerySet:
    """Records sharing a blocking key with ``record``: the very pairs a batch re-match compares."""
    holders = MatchKey.objects.filter(entity_type=matcher.entity_type, key__in=record.block_keys,
                                      golden_record_id__isnull=False).exclude(record_id=record.pk)
    return _live(matcher).filter(pk__in=holders.values("record_id"))


def _live(matcher: Matcher) -> models.QuerySet:
    return MatchRecord.objects.filter(
        entity_type=matcher.entity_type, is_active=True, golden_record_id__isnull=False
    ).only("source_record_id", "golden_record_id", "values")


# The names of common candidates come back page after page; 8,192 sets (~20 MB) keep a worker's memory flat.
@lru_cache(maxsize=8_192)
def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of a normalised name (lower-case letters, digits and single spaces): each word
    padded with two spaces before and one after."""
    grams = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


@lru_cache(maxsize=65_536)
def _ratio(shared: int, total: int) -> float:
    """shared / total in single precision, as pg_trgm computes it (a few thousand distinct pairs ever occur)."""
    return float(np.float32(shared) / np.float32(total))


def similarity(a: frozenset[str], b: frozenset[str], shared: int | None = None) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams, computed in single precision as it is."""
    if not a or not b:
        return 0.0
    shared = len(a & b) if shared is None else shared
    return _ratio(shared, len(a) + len(b) - shared)


@lru_cache(maxsize=1_024)
def _sizes_within(size: int) -> tuple[int, int]:
    """The trigram counts another name may have and still be TRIGRAM_THRESHOLD similar to one with ``size``: at
    most the smaller set is shared, so the ratio of the sizes (in single precision, as similarity() computes it)
    must reach the threshold. (lo, hi), both inclusive; lo > hi when none can."""
    lo = size
    while lo > 1 and _ratio(lo - 1, size) >= TRIGRAM_THRESHOLD:
        lo -= 1
    hi = size
    while _ratio(size, hi + 1) >= TRIGRAM_THRESHOLD:
        hi += 1
    return (lo, hi) if _ratio(size, size) >= TRIGRAM_THRESHOLD else (1, 0)


def most_similar(own: frozenset[str], grams: Mapping[Any, frozenset[str]], pks: Iterable[Any]) -> list[Any]:
    """The pks (those ``grams`` holds) whose trigrams are at least TRIGRAM_THRESHOLD similar to ``own``, best first
    (ties by pk's text): a name whose size alone keeps it under the threshold is not compared."""
    size = len(own)
    if not size:
        return []
    lo, hi = _sizes_within(size)
    scored = []
    for pk in pks:
        other = grams.get(pk)
        if other is None or not lo <= len(other) <= hi:
            continue
        score = similarity(own, other)
        if score >= TRIGRAM_THRESHOLD:
            scored.append((-score, str(pk), pk))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [pk for _, _, pk in scored]


def similar_names(entity_type: str, views: Sequence[MatchRecord], *, exclude: Sequence[Any] = (),
                  probe: Collection[str] | None = None,
                  common: Collection[str] | None = None) -> dict[Any, list[MatchRecord]]:
    """For each view, the live views named like it (trigram similarity >= TRIGRAM_THRESHOLD), best first, up to
    CANDIDATE_LIMIT: looked for among the views sharing one of its name keys held by at most TOKEN_BLOCK_CAP
    views (a common word or prefix identifies no name). One count, one probe and two reads for all the views: the
    names of the views found, then the views close enough to be candidates. With ``probe`` (the name keys the
    transaction claimed), only those are looked up; with ``common`` (common_names_count's), those are not (else it
    is asked)."""
    wanted = {v.pk: v for v in views if len(v.name_key) >= 3}
    names = {k for v in wanted.values() for k in v.name_keys}
    if common is None:
        common, _ = common_names_count(entity_type, names)
    distinctive = {k for k in names if k not in common and (probe is None or k in probe)}
    # The holders' ids are handled as text: a probe sets and looks up hundreds of them.
    holders = key_holders(entity_type, distinctive, exclude=exclude, limit=TOKEN_BLOCK_CAP, text=True)
    grams = {pk: trigrams(name) for pk, name in _names({i for ids in holders.values() for i in ids})}
    chosen: dict[Any, list[str]] = {}
    for pk, view in wanted.items():
        own = trigrams(view.name_key)
        near = {i for key in view.name_keys if key in distinctive for i in holders.get(key, ())}
        near.discard(str(pk))
        chosen[pk] = most_similar(own, grams, near)[:CANDIDATE_LIMIT]
    held = _views({i for ids in chosen.values() for i in ids})
    return {pk: [held[i] for i in ids if i in held] for pk, ids in chosen.items()}


def _names(pks: set[str]) -> list[tuple[str, str]]:
    """(pk as text, normalised name) of the match views, read with the ids as one array (there may be tens of
    thousands)."""
    if not pks:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT source_record_id::text, name_key FROM {MatchRecord._meta.db_table} "  # noqa: S608
                       "WHERE source_record_id = ANY(%s::uuid[])", [list(pks)])
        return cursor.fetchall()


def _views(pks: set[str]) -> dict[str, MatchRecord]:
    """The match views with these pks (as text), by pk as text."""
    return {str(view.pk): view for view in MatchRecord.objects.filter(pk__any=sorted(pks))}


@dataclass(frozen=True)
class Candidates:
    records: list[MatchRecord]
    by_name_only: bool  # found by name similarity alone: enough for a steward to look, not to merge


def _candidates(matcher: Matcher, record: MatchRecord) -> Candidates:
    holders = key_holders(matcher.entity_type, record.block_keys, exclude=[record.pk])
    ids = list(dict.fromkeys(i for key in record.block_keys for i in holders.get(key, ())))[:CANDIDATE_LIMIT]
    if ids or len(record.name_key) < 3:
        return Candidates(list(_live(matcher).filter(pk__in=ids)) if ids else [], False)
    return Candidates(similar_names(matcher.entity_type, [record], exclude=[record.pk])[record.pk], True)


# --- scoring against candidates ------------------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    golden_record_id: Any
    probability: float
    contributions: dict[str, dict]
    source_record_id: Any


def _population(matcher: Matcher) -> int:
    """How many records term frequencies are shares of: counted at training time, or now if untrained."""
    if matcher.population:
        return matcher.population
    return max(MatchRecord.objects.filter(entity_type=matcher.entity_type, is_active=True).count(), 1)


def score_against(matcher: Matcher, values: Mapping[str, str], candidates: Sequence[MatchRecord], *,
                  counts: Callable[[Sequence[str]], list[int]] | None = None) -> list[Scored]:
    """The probability that the record (``values``) is each candidate, with each comparison's weight.

    ``counts`` (key -> how many active records hold it) stands in for the count query when the caller already
    knows them."""
    return score_many(matcher, [(values, candidates)], counts=counts)[0]


def score_many(matcher: Matcher, records: Sequence[tuple[Mapping[str, str], Sequence[MatchRecord]]], *,
               counts: Callable[[Sequence[str]], list[int]] | None = None) -> list[list[Scored]]:
    """score_against for many records at once (each with its own candidates): one comparison of all the pairs."""
    rows: list[Mapping[str, str]] = [values for values, _ in records]
    left, right = [], []
    for i, (_, candidates) in enumerate(records):
        for candidate in candidates:
            left.append(i)
            right.append(len(rows))
            rows.append(candidate.values)
    if not left:
        return [[] for _ in records]
    prepared = {f.name: prepare_column(f.type, [r.get(f.name, "") for r in rows]) for f in matcher.spec.fields}
    tf_fields = [f for f in matcher.spec.fields if f.tf_adjust]
    wanted = [(i, f) for i, (values, candidates) in enumerate(records) if candidates
              for f in tf_fields if values.get(f.name)]
    if wanted:
        population = _population(matcher)
        keys = [f"{f.name}={records[i][0][f.name]}" for i, f in wanted]
        for f in tf_fields:
            prepared[f.name].frequency = prepared[f.name].frequency.copy()
        for (i, f), count in zip(wanted, counts(keys) if counts else _value_counts(matcher, keys), strict=True):
            # The share of all records holding this value, counted through the blocking index.
            column = prepared[f.name]
            column.frequency[column.codes[i]] = max(count, 1) / population
    prob, contributions, gamma = score(matcher.spec, matcher.model, prepared, np.asarray(left, dtype=np.int64),
                                       np.asarray(right, dtype=np.int64))
    result: list[list[Scored]] = [[] for _ in records]
    k = 0
    for i, (_, candidates) in enumerate(records):
        for candidate in candidates:
            result[i].append(Scored(candidate.golden_record_id, float(prob[k]),
                                    explain(matcher, gamma[k], contributions[k]), candidate.source_record_id))
            k += 1
    return result


def explain(matcher: Matcher, gamma: np.ndarray, contributions: np.ndarray) -> dict[str, dict]:
    """A pair's comparisons as a decision records them: each field's level and weight."""
    return {f.name: {"level": "missing" if gamma[j] == MISSING else matcher.model.levels[j][gamma[j]],
                     "weight": round(float(contributions[j]), 3)}
            for j, f in enumerate(matcher.spec.fields)}


def _best_per_golden(scored: Sequence[Scored], excluded: set) -> list[Scored]:
    best: dict[Any, Scored] = {}
    for s in scored:
        if s.golden_record_id in excluded:
            continue
        if s.golden_record_id not in best or s.probability > best[s.golden_record_id].probability:
            best[s.golden_record_id] = s
    return sorted(best.values(), key=lambda s: (-s.probability, str(s.golden_record_id)))


def ordered_pair(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b) if str(a) < str(b) else (b, a)


def not_a_match_partners(entity_type: str, golden_id: Any) -> set:
    rows = NotAMatch.objects.filter(entity_type=entity_type).filter(Q(record_a=golden_id) | Q(record_b=golden_id))
    return {r.record_b if r.record_a == golden_id else r.record_a for r in rows}


def potential_match_open(*, entity_type: str, record: Any, other: Any, probability: float,
                         contributions: Mapping[str, Any]) -> PotentialMatch | None:
    """Open (or refresh) the potential match of two golden records, unless a steward ruled it out."""
    a, b = ordered_pair(record, other)
    if NotAMatch.objects.filter(entity_type=entity_type, record_a=a, record_b=b).exists():
        return None
    match, created = PotentialMatch.objects.get_or_create(
        entity_type=entity_type, record_a=a, record_b=b,
        defaults={"score": probability, "contributions": dict(contributions)},
    )
    if not created and match.status == PotentialMatchStatus.OPEN and match.score != probability:
        match.score, match.contributions = probability, dict(contributions)
        match._change_reason = "re-scored"
        match.save(update_fields=["score", "contributions"])
    return match


def _decide(matcher: Matcher, best: Scored | None, *, name_only: bool = False) -> str:
    """Outcome of the best candidate. A candidate found by name similarity alone, sharing no blocking key,
    is at most a potential match: a batch re-match never compares such a pair, so merging it here would
    make online and batch disagree, and a similar name alone is a question for a steward anyway."""
    if best is None:
        return MatchOutcome.NEW
    if name_only:
        return MatchOutcome.REVIEW if best.probability >= matcher.thresholds.review else MatchOutcome.NEW
    if best.probability >= 1.0 and matcher.spec.deterministic:
        return MatchOutcome.DETERMINISTIC
    if best.probability >= matcher.thresholds.match:
        return MatchOutcome.AUTO_MATCH
    if best.probability >= matcher.thresholds.review:
        return MatchOutcome.REVIEW
    return MatchOutcome.NEW


@dataclass(frozen=True)
class MatchPreview:
    outcome: str
    ranked: list[Scored]


def match_preview(*, entity_type: str, values: Mapping[str, str]) -> MatchPreview:
    """What matching would decide for a record with these normalised values, without writing anything."""
    matcher = matcher_for(entity_type)
    if matcher is None:
        return MatchPreview(MatchOutcome.NEW, [])
    name = _name_key(matcher, values)
    view = MatchRecord(entity_type=entity_type, values=dict(values), block_keys=block_keys(matcher.spec, values),
                       name_key=name, name_keys=name_keys(name))
    found = _candidates(matcher, view)
    ranked = _best_per_golden(score_against(matcher, values, found.records), set())
    return MatchPreview(_decide(matcher, ranked[0] if ranked else None, name_only=found.by_name_only), ranked)


def match_lock_acquire(*, entity_types: Iterable[str]) -> None:
    """Decide one arrival of each entity type at a time: hold its matching lock until the transaction ends.

    Two copies of one client arriving at once from two platforms (two streams pulled by two workers) would
    otherwise each find no candidate, the other's match view not being committed yet, and make two golden
    records. Holding the lock, each arrival sees every one decided before it. A transaction takes it before
    any golden record's row lock (and several in sorted order), so two holders never wait on each other."""
    with connection.cursor() as cursor:
        for entity_type in sorted(set(entity_types)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [match_lock_key(entity_type)])


def match_lock_try(*, entity_type: str) -> bool:
    """Take an entity type's matching lock (as match_lock_acquire) if no other transaction holds or claims it
    right now; False, at once, if one does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [match_lock_key(entity_type)])
        return bool(cursor.fetchone()[0])


def match_claims_acquire(*, keys: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str] | None]:
    """Decide arrivals side by side with other transactions deciding records that share no match key with them:
    hold each entity type's matching lock shared, and claim (lock) each key the arrivals' matching may look up,
    until the transaction ends. Returns the keys claimed, by entity type: the caller looks up no other.

    Two copies of one client arriving at once from two platforms share a key (or neither could find the other
    anyway): the second to claim it waits for the first to commit, then sees its record. A name key held by more
    than TOKEN_BLOCK_CAP views is never looked up (too common to identify a name), so it is not claimed either:
    every page would share it. Keys are claimed in one statement in a single global order (their hash), so two
    claimers never wait on each other both ways; a transaction holding the lock exclusively
    (``match_lock_acquire``) waits for every claimer, and they for it. Call it before any golden record's row lock
    (a page's own staged source records may be locked already: only a page staging the same records, a webhook's
    and a pull's at once, can then deadlock with it, and PostgreSQL picks one to apply again).

    A page that would claim more than CLAIM_LIMIT keys (a page of a bulk load) takes the lock whole instead (None
    in the result: it may look up any key): it shares keys with any other such page anyway, and claiming
    thousands of keys costs more than it saves. Small pages (webhooks, the pulls of a steady trickle) keep
    their claims, and are not held up by one another."""
    claimed: dict[str, frozenset[str] | None] = {}
    table = MatchClaim._meta.db_table
    with connection.cursor() as cursor:
        for entity_type in sorted(keys):
            wanted = set(keys[entity_type])
            if len(wanted) > CLAIM_LIMIT:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [match_lock_key(entity_type)])
                claimed[entity_type] = None
                continue
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [match_lock_key(entity_type)])
            common, _ = common_names_count(entity_type, wanted)
            chosen = sorted(wanted - common)
            # ON CONFLICT DO UPDATE locks the key's row (and waits for a claimer holding it); WHERE false writes
            # nothing. A key claimed for the first time is inserted, its new row locked until the commit.
            cursor.execute(
                f"""INSERT INTO {table} (id)
                    SELECT DISTINCT hashtextextended(%s || ':' || k, 0) FROM unnest(%s::text[]) AS k ORDER BY 1
                    ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id WHERE false""",  # noqa: S608 (table name only)
                [entity_type, chosen])
            claimed[entity_type] = frozenset(chosen)
    return claimed


def match_claims_prune(*, limit: int = 100_000) -> int:
    """Delete up to ``limit`` claim rows no transaction holds (one is left per key ever claimed); returns how
    many. Safe while pages are matched: a held claim is skipped, and a claimer finding its key's row gone inserts
    it again (locked)."""
    table = MatchClaim._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "  # noqa: S608 (table name only)
                       "FOR UPDATE SKIP LOCKED LIMIT %s)", [limit])
        return cursor.rowcount


def match_lock_key(entity_type: str) -> int:
    """The advisory lock key of an entity type's matching lock."""
    return int.from_bytes(hashlib.sha256(f"match:{entity_type}".encode()).digest()[:8], "big", signed=True)


def source_record_match(*, source_record: SourceRecord, reason: str = "matched on arrival",
                        unplaced_only: bool = False) -> MatchDecision | None:
    """Find the golden record a newly staged source record belongs to, or make it one.

    Above the match threshold (or on a deterministic rule) it joins the best candidate; in the grey zone
    it becomes a new golden record and a potential match is opened for stewards; below, a new golden
    record. A source already attached is only re-indexed and its golden record recomputed; with
    ``unplaced_only``, left as it is (it was placed since the caller read it).
    Returns the decision (None when the record was already attached).
    """
    if source_record.entity_type == RevenueEvent.ENTITY_TYPE:
        # A revenue fact is not matched but recorded once, keyed by the platform's identity of the fact.
        revenue_event_from_source(source_record=source_record, reason=reason)
        return None
    matcher = matcher_for(source_record.entity_type)
    golden_model = model_for(source_record.entity_type)
    with transaction.atomic():
        if matcher is not None:
            match_lock_acquire(entity_types=[source_record.entity_type])
        source = SourceRecord.objects.select_for_update().get(pk=source_record.pk)
        if unplaced_only and source.golden_record_id is not None:
            return None
        if matcher is None:
            if source.golden_record_id is None:
                golden = golden_record_create(entity_type=source.entity_type, source_records=[source], reason=reason)
                return _decision(source, MatchOutcome.NEW, golden.pk, None, reason, 0)
            return None
        view = match_record_refresh(source_record=source, matcher=matcher)
        if source.golden_record_id is not None:
            golden_record_recompute(record=golden_model.objects.get(pk=source.golden_record_id), reason=reason)
            return None
        found = _candidates(matcher, view)
        ranked = _best_per_golden(score_against(matcher, view.values, found.records), set())
        best = ranked[0] if ranked else None
        outcome = _decide(matcher, best, name_only=found.by_name_only)
        if outcome in (MatchOutcome.AUTO_MATCH, MatchOutcome.DETERMINISTIC):
            golden = golden_model.objects.get(pk=best.golden_record_id)
            source_record_attach(source_record=source, record=golden, reason=f"{reason}: {outcome}")
        else:
            golden = golden_record_create(entity_type=source.entity_type, source_records=[source], reason=reason)
            if outcome == MatchOutcome.REVIEW:
                potential_match_open(entity_type=source.entity_type, record=golden.pk, other=best.golden_record_id,
                                     probability=best.probability, contributions=best.contributions)
        MatchRecord.objects.filter(pk=source.pk).update(golden_record_id=golden.pk)
        source_record.golden_record_id = golden.pk
        return _decision(source, outcome, golden.pk, best, reason, matcher.version)


def parked_sources_match(*, system_id: Any, reason: str = "matched after what it refers to arrived") -> int:
    """Match again the staged source records that could not become golden records yet (typically a child
    whose required parent had not arrived). Returns how many found their place; the rest stay parked.

    One placed since it was read here (a bulk load's landed record, in the chunk another run was placing: its
    match waited for that chunk's lock) is left as it is: recomputing its golden record, one at a time, cost a run
    minutes while another placed a load."""
    placed = 0
    parked = SourceRecord.objects.filter(system_id=system_id, golden_record_id__isnull=True, is_deleted=False)
    for source in parked.order_by("first_seen_at").iterator(chunk_size=500):
        try:
            with transaction.atomic():
                decided = source_record_match(source_record=source, reason=reason, unplaced_only=True)
        except ValidationError:
            continue
        placed += decided is not None or source.entity_type == RevenueEvent.ENTITY_TYPE
    return placed


def _decision(source: SourceRecord, outcome: str, golden_id: Any, best: Scored | None, reason: str,
              version: int, actor: str = "") -> MatchDecision:
    decision = decision_build(source, outcome, golden_id, best, reason, version, actor)
    decision.save(force_insert=True)
    return decision


def decision_build(source: SourceRecord, outcome: str, golden_id: Any, best: Scored | None, reason: str,
                   version: int, actor: str = "") -> MatchDecision:
    """A match decision, not saved yet (for writing many at once)."""
    return MatchDecision(
        source_record=source, entity_type=source.entity_type, outcome=outcome, golden_record_id=golden_id,
        candidate_golden_id=best.golden_record_id if best else None, score=best.probability if best else None,
        contributions=best.contributions if best else {}, config_version=version, actor=actor, reason=reason[:300],
        correlation_id=correlation.get() or "",
    )


def decision_record(*, source: SourceRecord, outcome: str, golden_id: Any, actor: str, reason: str) -> MatchDecision:
    """Record a decision made by a steward or a re-match (no score)."""
    return _decision(source, outcome, golden_id, None, reason, 0, actor)


def golden_is_live(model: type[models.Model], pk: Any) -> bool:
    return model.objects.filter(pk=pk, merged_into__isnull=True).exists()
