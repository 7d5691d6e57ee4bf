"""Batch re-match of a whole entity type: initial load, retraining, or a rule change, with a dry run.

The batch runs the same engine as the online path over every active source record's match view, then
gives each resulting cluster a golden id without churn: a cluster keeps the id that most of its members
already had, ids nobody keeps are retired into the cluster that took most of their members (so they still
resolve), and only clusters of records that had no golden record get new ids. Steward decisions hold:
"not a match" pairs are never joined, and sources a steward placed stay where the steward put them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from django.db import models, transaction

from canonical.choices import MatchOutcome
from canonical.matching.engine import clusters_of
from canonical.matching.engine import run as engine_run
from canonical.models import MatchConfiguration, MatchDecision, MatchRecord, NotAMatch, SourceRecord
from canonical.registry import model_for
from canonical.services.golden import golden_record_create, golden_record_recompute
from canonical.services.matching import (
    Matcher,
    decision_record,
    golden_views_complete,
    match_configuration_get,
    match_values,
    match_views_write,
    matcher_from,
)
from canonical.services.merge import golden_record_point, golden_record_references_move

EXAMPLES = 5
STEWARD_OUTCOMES = (MatchOutcome.STEWARD_MERGE, MatchOutcome.STEWARD_UNMERGE)


@dataclass
class RematchReport:
    entity_type: str
    records: int
    clusters: int
    goldens_before: int
    merges: int  # golden records that would fold into another
    splits: int  # golden records whose sources would spread over several clusters
    moves: int  # source records that would change golden record
    new_records: int  # clusters that would need a new golden record
    thresholds: dict[str, float]
    applied: bool = False
    config_version: int = 0
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rematch_fingerprint(report: RematchReport, spec: Mapping[str, Any] | None) -> str:
    """Identifies a dry run: the rules tried, the rules' version and the impact seen. Applying requires it,
    so a change is applied only as it was shown, and not if the data or the rules moved since."""
    seen = {k: getattr(report, k) for k in ("records", "merges", "splits", "moves", "new_records")}
    blob = json.dumps([report.entity_type, report.config_version, spec, seen], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def match_records_rebuild(*, entity_type: str, matcher: Matcher | None = None) -> int:
    """(Re)build the match view of every source record of an entity type (after a load or rule change)."""
    config = match_configuration_get(entity_type)
    if config is None:
        return 0
    matcher = matcher or matcher_from(config)
    count = 0
    sources = SourceRecord.objects.filter(entity_type=entity_type).select_related("system").order_by("pk")
    for chunk in _chunks(sources.iterator(chunk_size=REBUILD_CHUNK), REBUILD_CHUNK):
        # A chunk's views in one statement: one by one, each cost a lookup, an upsert and a look at the common
        # names (8 ms a record; a rule change over 100k records took a quarter of an hour).
        match_views_write(sources=chunk, matcher=matcher)
        count += len(chunk)
    return count


REBUILD_CHUNK = 2000


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


MIN_TRAINING_RECORDS = 100


def match_weights_train(*, entity_type: str, min_records: int = MIN_TRAINING_RECORDS) -> bool:
    """Learn m, u and the prior from today's records by EM and keep them; golden records are not touched.

    With fewer than ``min_records`` records EM has too little to go on, and the current weights stay."""
    config = match_configuration_get(entity_type)
    if config is None:
        return False
    matcher = matcher_from(config)
    ids, _, values = _population(matcher, rebuild_values=False)
    if len(ids) < min_records:
        return False
    columns = {f.name: [v.get(f.name, "") for v in values] for f in matcher.spec.fields}
    columns[matcher.spec.id_field] = [str(i) for i in ids]
    run_spec = matcher.spec if matcher.spec.thresholds else _with_thresholds(matcher)
    _save_config(config, None, engine_run(run_spec, columns, normalised=True,
                                          confirmed=steward_confirmed_pairs(entity_type, ids)))
    return True


def steward_confirmed_pairs(entity_type: str, ids: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of source records that stewards put together by a merge: labelled matches for training.

    Each steward merge moved sources into a survivor that already had sources of its own; every moved
    source paired with one of the survivor's original sources is a confirmed match."""
    position = {source_id: i for i, source_id in enumerate(ids)}
    merges = MatchDecision.objects.filter(entity_type=entity_type, outcome=MatchOutcome.STEWARD_MERGE)
    left, right = [], []
    for moved, survivor in merges.values_list("source_record_id", "golden_record_id"):
        partner = (MatchDecision.objects.filter(golden_record_id=survivor).exclude(outcome=MatchOutcome.STEWARD_MERGE)
                   .values_list("source_record_id", flat=True).first())
        if moved in position and partner in position:
            left.append(position[moved])
            right.append(position[partner])
    return np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)


def _population(matcher: Matcher, rebuild_values: bool) -> tuple[list[Any], list[Any], list[dict[str, str]]]:
    if not rebuild_values:
        rows = MatchRecord.objects.filter(entity_type=matcher.entity_type, is_active=True).order_by("pk")
        rows = rows.values_list("source_record_id", "golden_record_id", "values")
        ids, goldens, values = [], [], []
        for source_id, golden_id, vals in rows.iterator(chunk_size=5000):
            ids.append(source_id)
            goldens.append(golden_id)
            values.append(vals)
        return ids, goldens, values
    sources = SourceRecord.objects.filter(entity_type=matcher.entity_type, is_deleted=False).order_by("pk")
    ids, goldens, values = [], [], []
    for source in sources.iterator(chunk_size=2000):
        ids.append(source.pk)
        goldens.append(source.golden_record_id)
        values.append(match_values(matcher, source))
    return ids, goldens, values


def _constrained_clusters(n: int, left: np.ndarray, right: np.ndarray, goldens: list[Any],
                          pinned: np.ndarray, forbidden: set[tuple[Any, Any]]) -> np.ndarray:
    keep = np.ones(len(left), dtype=bool)
    for k, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        ga, gb = goldens[a], goldens[b]
        if ga is not None and gb is not None and ga != gb:
            if (str(ga), str(gb)) in forbidden or (str(gb), str(ga)) in forbidden or (pinned[a] and pinned[b]):
                keep[k] = False
    # Pinned sources stay with the record a steward put them in.
    by_golden: dict[Any, list[int]] = defaultdict(list)
    for i in np.flatnonzero(pinned).tolist():
        by_golden[goldens[i]].append(i)
    extra_l, extra_r = [], []
    for members in by_golden.values():
        extra_l += members[:-1]
        extra_r += members[1:]
    return clusters_of(n, np.r_[left[keep], np.asarray(extra_l, np.int64)],
                       np.r_[right[keep], np.asarray(extra_r, np.int64)])


def _assign(cluster: np.ndarray, goldens: list[Any]) -> tuple[dict[int, Any], dict[Any, int]]:
    """Cluster -> the golden id it keeps (most members already had it); and, for every golden id that
    no cluster keeps, the cluster holding most of its former members (its successor)."""
    counts: Counter = Counter()
    for c, g in zip(cluster.tolist(), goldens, strict=True):
        if g is not None:
            counts[(c, g)] += 1
    keeps: dict[int, Any] = {}
    taken: set = set()
    for (c, g), _ in sorted(counts.items(), key=lambda item: (-item[1], str(item[0][1]))):
        if c not in keeps and g not in taken:
            keeps[c] = g
            taken.add(g)
    retired: dict[Any, int] = {}
    for (c, g), _ in sorted(counts.items(), key=lambda item: (-item[1], item[0][0])):
        if g not in taken and g not in retired:
            retired[g] = c
    return keeps, retired


def entity_rematch(*, entity_type: str, spec: Mapping[str, Any] | None = None, apply: bool = False,
                   train: bool = False, actor: str = "", reason: str = "re-match") -> RematchReport:
    """Re-match every active source record of an entity type; report (and with ``apply``, make) the changes.

    ``spec``: proposed rules to try instead of the current ones (applied, they become the next version).
    ``train``: learn m, u and the prior from the data by EM instead of using the stored weights.
    """
    config = match_configuration_get(entity_type)
    if config is None:
        raise ValueError(f"{entity_type} records are not matched (no match rules)")
    matcher = matcher_from(config, spec)
    # Every copy re-matched by its own view, the copies the hub wrote too (see copy_views_write): a golden record
    # whose viewed source moves away keeps no copy behind, unseen.
    golden_views_complete(entity_type=entity_type)
    ids, goldens, values = _population(matcher, rebuild_values=spec is not None)
    n = len(ids)
    columns = {f.name: [v.get(f.name, "") for v in values] for f in matcher.spec.fields}
    columns[matcher.spec.id_field] = [str(i) for i in ids]
    run_spec = matcher.spec if matcher.spec.thresholds else _with_thresholds(matcher)
    result = engine_run(run_spec, columns, normalised=True, model=None if train else matcher.model,
                        confirmed=steward_confirmed_pairs(entity_type, ids) if train else None) if n else None
    pinned = _pinned(ids)
    forbidden = {(str(r.record_a), str(r.record_b)) for r in NotAMatch.objects.filter(entity_type=entity_type)}
    if result is not None:
        matched = result.probability >= result.thresholds.match
        cluster = _constrained_clusters(n, result.left[matched], result.right[matched], goldens, pinned, forbidden)
    else:
        cluster = np.zeros(0, dtype=np.int64)
    keeps, retired = _assign(cluster, goldens)
    report = _report(entity_type, ids, goldens, cluster, keeps, retired, matcher, result)
    if apply:
        _apply(entity_type, ids, goldens, cluster, keeps, retired, actor, reason)
        _save_config(config, spec, result if train else None)
        report.applied = True
        report.config_version = config.version
    return report


def _with_thresholds(matcher: Matcher):
    from dataclasses import replace

    return replace(matcher.spec, thresholds=matcher.thresholds)


def _pinned(ids: list[Any]) -> np.ndarray:
    latest: dict[Any, str] = {}
    for source_id, outcome in (
        MatchDecision.objects.filter(source_record_id__in=ids).order_by("source_record_id", "-created_at")
        .values_list("source_record_id", "outcome")
    ):
        latest.setdefault(source_id, outcome)
    return np.array([latest.get(i) in STEWARD_OUTCOMES for i in ids], dtype=bool)


def _report(entity_type, ids, goldens, cluster, keeps, retired, matcher, result) -> RematchReport:
    golden_model = model_for(entity_type)
    target = [keeps.get(c) for c in cluster.tolist()]
    moves = [i for i, (g, t) in enumerate(zip(goldens, target, strict=True)) if g is not None and g != t]
    spread: dict[Any, set] = defaultdict(set)
    for g, c in zip(goldens, cluster.tolist(), strict=True):
        if g is not None:
            spread[g].add(c)
    splits = [g for g, cs in spread.items() if len(cs) > 1]
    new_clusters = sorted({c for c in cluster.tolist() if c not in keeps})
    golden_ids = dict(golden_model.objects.filter(pk__in=set(goldens) - {None}).values_list("pk", "golden_id"))
    sources = dict(SourceRecord.objects.filter(pk__in=[ids[i] for i in moves[:EXAMPLES]])
                   .values_list("pk", "external_id"))
    examples = {
        "merges": [{"retired": golden_ids.get(g), "into": golden_ids.get(keeps.get(c))} for g, c in
                   list(retired.items())[:EXAMPLES]],
        "splits": [{"golden_id": golden_ids.get(g), "into_clusters": len(spread[g])} for g in splits[:EXAMPLES]],
        "moves": [{"source_record": str(ids[i]), "external_id": sources.get(ids[i]), "from": golden_ids.get(goldens[i]),
                   "to": golden_ids.get(target[i]) or "(new)"} for i in moves[:EXAMPLES]],
    }
    thresholds = result.thresholds if result is not None else matcher.thresholds
    return RematchReport(
        entity_type=entity_type, records=len(ids), clusters=len(set(cluster.tolist())),
        goldens_before=len(set(goldens) - {None}), merges=len(retired), splits=len(splits), moves=len(moves),
        new_records=len(new_clusters), thresholds={"match": thresholds.match, "review": thresholds.review},
        config_version=matcher.version, examples=examples,
    )


def _apply(entity_type, ids, goldens, cluster, keeps, retired, actor, reason) -> None:
    golden_model: type[models.Model] = model_for(entity_type)
    text = f"re-match by {actor or 'the hub'}: {reason}"
    with transaction.atomic():
        members: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(cluster.tolist()):
            members[c].append(i)
        touched: set = set()
        created: dict[int, Any] = {}
        for c, idx in members.items():
            target = keeps.get(c)
            movers = [i for i in idx if goldens[i] != target]
            if not movers:
                continue
            sources = list(SourceRecord.objects.select_for_update().filter(pk__in=[ids[i] for i in movers]))
            touched.update(goldens[i] for i in movers if goldens[i] is not None)
            if target is None:
                for source in sources:
                    source.golden_record_id = None
                    source._change_reason = text
                    source.save(update_fields=["golden_record_id", "last_changed_at"])
                record = golden_record_create(entity_type=entity_type, source_records=sources, reason=text)
                created[c] = record.pk
                target = record.pk
            else:
                for source in sources:
                    source.golden_record_id = target
                    source._change_reason = text
                    source.save(update_fields=["golden_record_id", "last_changed_at"])
                touched.add(target)
            for source in sources:
                decision_record(source=source, outcome=MatchOutcome.REMATCH, golden_id=target, actor=actor, reason=text)
            MatchRecord.objects.filter(pk__in=[s.pk for s in sources]).update(golden_record_id=target)
        for golden_pk, c in retired.items():
            successor_pk = keeps.get(c) or created.get(c)
            loser = golden_model.objects.select_for_update().get(pk=golden_pk)
            survivor = golden_model.objects.get(pk=successor_pk)
            moved = f"merged {loser.golden_id} into {survivor.golden_id}: {text}"
            golden_record_references_move(loser, survivor, moved)
            golden_record_point(record=loser, to=survivor, reason=text)
            touched.discard(golden_pk)
        for golden_pk in touched:
            golden_record_recompute(record=golden_model.objects.get(pk=golden_pk), reason=text)


def _save_config(config: MatchConfiguration, spec: Mapping[str, Any] | None, trained) -> None:
    changed = False
    if spec is not None and spec != config.spec:
        config.spec = dict(spec)
        config.version += 1
        changed = True
    if trained is not None:
        config.parameters = {
            "model": trained.model.to_dict(),
            "thresholds": {"match": trained.thresholds.match, "review": trained.thresholds.review},
            "trained_on": trained.stats.get("records"),
        }
        changed = True
    if changed:
        config._change_reason = "rules applied after a dry run" if spec is not None else "weights retrained"
        config.save()
