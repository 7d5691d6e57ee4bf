"""A bulk load: source records landed without matching, then placed together by the batch engine.

A stream's first read (or a full re-read) brings thousands of records the hub has never seen. Matching them a
page at a time, each against everything decided before it, costs a millisecond or more of Python a record
under the entity type's lock. Instead each page is *landed*: staged with its cursor in one transaction (as any
page) and its records' match views written inactive (no candidate of anything, no golden record yet). When the
read ends, what landed is *placed* a chunk at a time under the entity type's lock: the batch engine compares
the chunk with itself and with the live match views sharing a blocking key with it, links the pairs above the
match threshold (best first, never joining two existing golden records), and the result is written in bulk:
new golden records built from all their members, attaches to existing ones, match views, decisions and change
events. The rules are the online path's: the same comparators, weights and thresholds; a record that joined
an existing golden record is an auto match (deterministic on a deterministic rule), a record left alone whose
best pair was in the grey zone opens a potential match for stewards, and one sharing no blocking key with
anything is looked up by name similarity, which can only ever open a potential match (once the chunk is committed,
without the lock: the next chunk is placed meanwhile).

Landed records are placed by the run that landed them (with whatever other streams landed meanwhile), every so many
records as it reads and the rest when it ends; one that crashed between landing and placing leaves them for the
next run of any stream, which places them first (they are never lost: staged and counted, only not yet matched). A
record that refers to another one is not landed (its reference resolves to what has been placed so far): it is
matched online, as is every record of a later pull or a webhook.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q

from canonical.choices import MatchOutcome
from canonical.matching.engine import run as engine_run
from canonical.models import ConnectedSystem, MatchDecision, MatchRecord, SourceRecord
from canonical.registry import MODELS, model_for
from canonical.services.arrivals import (
    _references,
    golden_record_build,
    golden_records_write,
)
from canonical.services.matching import (
    MATCH_VIEW_FIELDS,
    Matcher,
    Scored,
    _best_per_golden,
    _decide,
    common_names,
    common_names_count,
    common_names_drop,
    common_names_in,
    common_names_record,
    decision_build,
    explain,
    key_holders,
    match_lock_acquire,
    match_lock_try,
    match_view_build,
    matcher_for,
    potential_match_open,
    score_many,
    similar_names,
)
from canonical.services.recompute import source_records_attach
from hub.db import rows_insert, rows_update

logger = logging.getLogger(__name__)

PLACE_CHUNK = 20_000  # landed records placed in one transaction (and held in memory with their candidates)
ANALYZE_AFTER = 5_000  # a read that landed this many records is a bulk load (see bulk_load_analyze)


def source_records_land(*, sources: Sequence[SourceRecord]) -> list[SourceRecord]:
    """Land the staged source records that may land (new to the hub: not attached; of a matched entity type;
    referring to no other record): their match views written inactive, with no golden record (nobody's
    candidate until placed), in one statement. Returns the others, to match as they come."""
    matchers: dict[str, Matcher | None] = {}
    views, others = [], []
    for source in sources:
        if source.entity_type not in matchers:
            matchers[source.entity_type] = matcher_for(source.entity_type)
        matcher = matchers[source.entity_type]
        if matcher is None or source.golden_record_id is not None or source.is_deleted or _references(source):
            others.append(source)
            continue
        view = match_view_build(matcher, source)
        view.is_active, view.golden_record_id = False, None
        views.append(view)
    if views:
        rows_insert(MatchRecord, views, unique_fields=["source_record"], update_fields=MATCH_VIEW_FIELDS)
    return others


def _landed() -> models.QuerySet:
    """Source records landed and not placed yet."""
    return SourceRecord.objects.filter(golden_record_id__isnull=True, is_deleted=False, match_record__isnull=False,
                                       match_record__golden_record_id__isnull=True)


def landed_entity_types() -> list[str]:
    """The entity types with records landed and not placed yet: one statement, asked at the end of every pull
    (while a bulk load may have a hundred thousand landed, and a few times a second once it is placed).

    Each type is probed through the partial index of landed views (``match_landed``), which holds a bulk load's
    views only until they are placed, and stops at the first one whose source record is still unplaced. (Probed
    through the source records' (entity type, golden record) index, each asked walked past the index entries of
    every record placed since the last vacuum: 2.7 ms a type and a pull, a tenth of the database's time over a
    bulk load and its deliveries.)"""
    views, sources = MatchRecord._meta.db_table, SourceRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t FROM unnest(%s::varchar[]) AS t WHERE EXISTS (
                    SELECT 1 FROM {views} m JOIN {sources} s ON s.id = m.source_record_id
                    WHERE m.entity_type = t AND m.golden_record_id IS NULL AND NOT m.is_active
                      AND s.golden_record_id IS NULL AND NOT s.is_deleted)
                ORDER BY t""",  # noqa: S608 (table names only)
            [sorted(MODELS)])
        return [row[0] for row in cursor.fetchall()]


@dataclass
class Placed:
    placed: int = 0
    created: int = 0  # golden records made
    attached: int = 0  # records that joined an existing golden record
    reviews: int = 0  # potential matches opened
    refused: int = 0  # left parked: their golden record would not be valid
    unfinished: bool = False  # stopped at its deadline with records of the type still landed

    def add(self, other: Placed, *, refused: bool = True) -> None:
        """Count ``other``'s records in too (its refused ones only with ``refused``)."""
        self.placed, self.created = self.placed + other.placed, self.created + other.created
        self.attached, self.reviews = self.attached + other.attached, self.reviews + other.reviews
        if refused:
            self.refused += other.refused


def landed_sources_place(*, entity_type: str, reason: str, chunk: int | None = None, wait: bool = True,
                         deadline: float | None = None) -> Placed | None:
    """Place every landed source record of an entity type (see the module), a chunk per transaction, oldest
    first. A record another transaction holds right now (a webhook staging it) is skipped: that one matches it.
    Without ``wait``, returns None at once when another transaction holds or claims the type's matching lock.
    No chunk but the first is begun once ``time.monotonic()`` has passed ``deadline``: what is left is
    ``unfinished``. ``chunk``: records a transaction (PLACE_CHUNK)."""
    matcher = matcher_for(entity_type)
    if matcher is None:
        return Placed()
    chunk = chunk or PLACE_CHUNK
    total = Placed()
    while True:
        done = _placing_pass(matcher, reason, chunk, wait, deadline)
        if done is None:  # the lock was taken (without ``wait``) before this pass placed anything
            return None if total == Placed() else total
        total.add(done, refused=False)
        total.refused = done.refused  # those the last pass left
        if done.unfinished:
            total.unfinished = True
            return total
        # A record refused for want of a copy placed in a later chunk (one with no legal name of its own, say, whose
        # other copy names it) is placed by another pass over what is left; none placed, none will be.
        if not done.refused or not done.placed:
            return total


def _placing_pass(matcher: Matcher, reason: str, chunk: int, wait: bool,
                  deadline: float | None = None) -> Placed | None:
    """Every landed record of the type once, a chunk per transaction, oldest first (see landed_sources_place)."""
    total = Placed()
    after: tuple[Any, Any] | None = None  # the last (first_seen_at, id) read: each chunk reads past it
    while True:
        # Past the deadline, once a chunk is placed (a run that placed none would leave the next as it found it)
        if deadline is not None and after is not None and time.monotonic() >= deadline:
            return replace(total, unfinished=True)
        with transaction.atomic():
            if not wait and not match_lock_try(entity_type=matcher.entity_type):
                return None if after is None else total
            landed = _landed().filter(entity_type=matcher.entity_type)
            if after is not None:
                landed = landed.filter(Q(first_seen_at__gt=after[0]) | Q(first_seen_at=after[0], id__gt=after[1]))
            # The chunk is read, its rows locked, before the lock is waited for: another process may be placing the
            # chunk before it meanwhile (whose rows are skipped, locked). Only deciding needs the lock: what is live.
            placing = _Chunk(matcher, landed.order_by("first_seen_at", "id")[:chunk], reason)
            if not placing.taken:
                return total
            if wait:
                match_lock_acquire(entity_types=[matcher.entity_type])
            done = placing.place()
        # Once committed, and without the lock: another process may place the next chunk meanwhile.
        placing.review_by_name()
        after = placing.taken[-1]
        total.add(done)
        if len(placing.taken) < chunk:
            return total


def bulk_load_analyze() -> None:
    """Statistics of the tables a bulk load rewrote, taken once it is placed (as after any bulk load) rather than
    whenever autovacuum comes by: until then the planner believes the source records are still unplaced and the
    golden records' tables empty, and plans every pull's reads for a hub that is no longer there. Once, when a
    read that landed ANALYZE_AFTER records or more has placed them, not at each placement as the read goes (an
    ANALYZE each time cost a tenth of placing the records)."""
    with connection.cursor() as cursor:
        for model in (SourceRecord, MatchRecord, MatchDecision, *(MODELS[t] for t in sorted(MODELS))):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _Chunk:
    """One transaction's landed records, their candidates, and what placing them writes."""

    def __init__(self, matcher: Matcher, landed: models.QuerySet, reason: str) -> None:
        """Take the landed records of ``landed`` (ordered and sliced) no other transaction holds, locked."""
        self.matcher, self.reason = matcher, reason
        self.model = model_for(matcher.entity_type)
        systems = ConnectedSystem.objects.in_bulk()
        rows = list(landed.select_for_update(skip_locked=True, of=("self",)).defer("payload"))
        self.taken = [(source.first_seen_at, source.pk) for source in rows]  # in order: the next chunk reads past
        self.sources = []
        for source in rows:
            source.system = systems[source.system_id]
            if not _references(source):  # a parked child: matched online when what it refers to arrives
                self.sources.append(source)
        self.views = {view.pk: view for view in MatchRecord.objects.filter(pk__any=[s.pk for s in self.sources])}
        self.sources = [s for s in self.sources if s.pk in self.views]
        self.result = Placed()
        self.by_name: list[int] = []  # records to look up by name once the chunk is committed
        self.held: dict[str, int] = {}  # how many live records hold each of the chunk's keys (as far as read)
        self.decided: dict[int, tuple[str, Any, Scored | None]] = {}
        self.decisions: dict[int, MatchDecision] = {}

    # -- deciding -------------------------------------------------------------------------------------------
    def place(self) -> Placed:
        if not self.sources:
            return self.result
        landed = [self.views[s.pk] for s in self.sources]
        live = self._live({k for view in landed for k in view.block_keys})
        rows = landed + live
        n, count = len(rows), len(landed)
        golden = [None] * count + [view.golden_record_id for view in live]
        pairs = self._pairs(rows, count)
        cluster, joined = _link(n, count, pairs, golden, self.matcher.thresholds.match)
        self._write(rows, count, golden, pairs, cluster, joined)
        return self.result

    def _live(self, keys: set[str]) -> list[_Live]:
        """The live match views (active, placed) holding one of the keys, up to CANDIDATE_LIMIT a key as the
        online path reads them: the chunk's candidates in the hub. Read as bare rows (values, keys, golden record)
        and built without the ORM: a chunk may have a hundred thousand."""
        holders = key_holders(self.matcher.entity_type, keys)
        self.held = {key: len(held) for key, held in holders.items()}
        ids = sorted({i for held in holders.values() for i in held}, key=str)
        found: list[_Live] = []
        table = MatchRecord._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 10_000):
                cursor.execute(f"SELECT source_record_id, golden_record_id, values FROM {table} "  # noqa: S608
                               "WHERE source_record_id = ANY(%s) AND is_active AND golden_record_id IS NOT NULL "
                               "ORDER BY source_record_id", [ids[start:start + 10_000]])
                found += [_Live(pk, golden, orjson.loads(values)) for pk, golden, values in cursor.fetchall()]
        return found

    def _pairs(self, rows: Sequence[MatchRecord | _Live], count: int) -> _Pairs:
        """The scored pairs at or above the review threshold with at least one landed record in them."""
        spec = self.matcher.spec
        if len(rows) < 2:
            return _Pairs.empty()
        columns = {f.name: [row.values.get(f.name, "") for row in rows] for f in spec.fields}
        columns[spec.id_field] = [str(row.pk) for row in rows]
        result = engine_run(replace(spec, thresholds=self.matcher.thresholds), columns, normalised=True,
                            model=self.matcher.model, fresh=count)
        keep = result.left < count  # left < right: a pair of two live records is none of the chunk's business
        return _Pairs(result.left[keep], result.right[keep], result.probability[keep], result.contributions[keep],
                      result.gamma[keep])

    # -- writing ----------------------------------------------------------------------------------------------
    def _write(self, rows, count, golden, pairs: _Pairs, cluster: np.ndarray, joined: dict[int, int]) -> None:
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(count):
            members[int(cluster[i])].append(i)
        existing = {int(cluster[i]): golden[i] for i in range(count, len(rows)) if int(cluster[i]) in members}
        attaches: dict[str, list[tuple[SourceRecord, Any]]] = defaultdict(list)
        fresh: list[list[int]] = []
        for c, idx in members.items():
            if c in existing:
                for i in idx:
                    attaches[self._outcome(pairs, joined[i])].append((self.sources[i], existing[c]))
            else:
                fresh.append(idx)
        decided: dict[int, tuple[str, Any, Scored | None]] = {}
        refused = self._attach(attaches, pairs, joined, rows, golden, decided)
        refused += self._create(fresh, pairs, joined, rows, golden, decided)
        self.result.refused += len(refused)
        self._views(decided)
        self._reviews(decided, pairs, rows, golden, cluster)
        self._decisions(decided)

    def _outcome(self, pairs: _Pairs, k: int) -> str:
        deterministic = pairs.probability[k] >= 1.0 and self.matcher.spec.deterministic
        return MatchOutcome.DETERMINISTIC if deterministic else MatchOutcome.AUTO_MATCH

    def _attach(self, attaches, pairs, joined, rows, golden, decided) -> list[int]:
        index = {s.pk: i for i, s in enumerate(self.sources)}
        refused = []
        for outcome, found in attaches.items():
            attached = source_records_attach(pairs=found, entity_type=self.matcher.entity_type,
                                             reason=f"{self.reason}: {outcome}")
            for source, golden_pk in found:
                i = index[source.pk]
                if golden_pk in attached.errors:
                    refused.append(i)
                    _log_refused(source, attached.errors[golden_pk])
                    continue
                decided[i] = (outcome, golden_pk, self._scored(pairs, joined[i], rows, golden, i, golden_pk))
                self.result.attached += 1
        return refused

    def _create(self, fresh: Sequence[list[int]], pairs, joined, rows, golden, decided) -> list[int]:
        """A golden record for each new cluster, built from all its members; a cluster whose record would not be
        valid is tried member by member, and a member that cannot stand alone stays parked."""
        built: list[tuple[models.Model, list[int], list[str]]] = []
        refused = []
        for idx in fresh:
            try:
                built.append(self._build(idx))
            except ValidationError as exc:
                if len(idx) == 1:
                    refused.append(idx[0])
                    _log_refused(self.sources[idx[0]], exc)
                    continue
                for i in idx:
                    try:
                        built.append(self._build([i]))
                        joined.pop(i, None)
                    except ValidationError as alone:
                        refused.append(i)
                        _log_refused(self.sources[i], alone)
        golden_records_write(model=self.model, built=[(record, [self.sources[i] for i in idx], changed)
                                                      for record, idx, changed in built], reason=self.reason)
        for record, idx, _ in built:
            for n, i in enumerate(idx):
                if n == 0 or i not in joined:
                    decided[i] = (MatchOutcome.NEW, record.pk, None)
                else:
                    decided[i] = (self._outcome(pairs, joined[i]), record.pk,
                                  self._scored(pairs, joined[i], rows, golden, i, record.pk))
        self.result.created += len(built)
        return refused

    def _build(self, idx: Sequence[int]) -> tuple[models.Model, list[int], list[str]]:
        record, changed = golden_record_build(model=self.model, sources=[self.sources[i] for i in idx],
                                              reason=self.reason)
        return record, list(idx), changed

    def _scored(self, pairs: _Pairs, k: int, rows, golden, i: int, pk: Any = None) -> Scored:
        """Pair k as a decision explains it: the other record's golden record (``pk`` when both are new), the
        probability and each comparison's level and weight."""
        other = int(pairs.right[k]) if int(pairs.left[k]) == i else int(pairs.left[k])
        golden_pk = golden[other] if golden[other] is not None else pk
        return Scored(golden_pk, float(pairs.probability[k]), explain(self.matcher, pairs.gamma[k],
                                                                      pairs.contributions[k]), rows[other].pk)

    def _views(self, decided: Mapping[int, tuple[str, Any, Scored | None]]) -> None:
        """Placed: active now, with their golden records (the trigger gives them their keys: candidates from
        here on)."""
        views = []
        for i, (_, golden_pk, _) in sorted(decided.items()):
            view = self.views[self.sources[i].pk]
            view.golden_record_id, view.is_active = golden_pk, True
            views.append(view)
        # Name keys too common to identify a name, known or held by more than the cap of these views alone, are left
        # out (never looked up); the second kind is remembered, under the lock, so no other placing writes it.
        entity_type = self.matcher.entity_type
        found = common_names_in(views)
        common = common_names(entity_type, {k for view in views for k in view.name_keys})
        common_names_record(entity_type, found - common)
        common_names_drop(views, {entity_type: common | found})
        # Written again rather than updated: the trigger keeps the keys of inserted rows in one plain insert, where
        # an update joins the statement's old and new rows (transition tables, which have no statistics).
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {MatchRecord._meta.db_table} WHERE source_record_id = ANY(%s)",  # noqa: S608
                           [[view.pk for view in views]])
        rows_insert(MatchRecord, views)
        self.result.placed += len(views)

    def _decisions(self, decided: Mapping[int, tuple[str, Any, Scored | None]]) -> None:
        self.decisions = {i: decision_build(self.sources[i], outcome, golden_pk, best, self.reason,
                                            self.matcher.version)
                          for i, (outcome, golden_pk, best) in sorted(decided.items())}
        rows_insert(MatchDecision, list(self.decisions.values()))

    def _reviews(self, decided, pairs: _Pairs, rows, golden, cluster: np.ndarray) -> None:
        """Potential matches: a record left alone whose best pair is in the grey zone (against that pair's golden
        record); one sharing no blocking key with anything, against the records named like it, once the chunk is
        committed (review_by_name)."""
        golden_of = {i: g for i, g in enumerate(golden) if g is not None}
        golden_of.update((i, d[1]) for i, d in decided.items())
        size = np.bincount(cluster)
        count = len(self.sources)
        best: dict[int, int] = {}  # per landed record: its best pair with a record decided before it (as online)
        for k in np.argsort(-pairs.probability, kind="stable").tolist():
            a, b = int(pairs.left[k]), int(pairs.right[k])  # a < b, and a is landed
            if b < count and b not in best:
                best[b] = k  # b landed after a
            elif b >= count and a not in best:
                best[a] = k  # b is live
        keyed = _keyed(rows[:count], self.held)
        alone = [i for i in sorted(decided) if decided[i][0] == MatchOutcome.NEW and size[cluster[i]] == 1]
        for i in alone:
            k = best.get(i)
            if k is not None:
                other = int(pairs.right[k]) if int(pairs.left[k]) == i else int(pairs.left[k])
                partner = golden_of.get(other)
                if partner is not None and partner != decided[i][1]:
                    self._review(decided, i, partner, self._scored(pairs, k, rows, golden, i, partner))
            elif not keyed[i] and len(self.views[self.sources[i].pk].name_key) >= 3:
                self.by_name.append(i)
        self.decided = decided

    def review_by_name(self) -> None:
        """The name-similarity probes of the chunk's records that share no blocking key with anything (see
        ``_reviews``), once the chunk is committed, in a transaction of their own and without the matching lock:
        they read what is placed and can only open a potential match (a similar name alone never places a
        record), so they need not hold up the next chunk, which another process may place meanwhile. A record
        one opens has its decision turned into that review. (Should the process stop between the two, those
        records keep their decisions as new golden records, with no review opened; a re-match looks again.)"""
        if not self.by_name:
            return
        entity_type = self.matcher.entity_type
        common, found = common_names_count(entity_type, {k for i in self.by_name
                                                         for k in self.views[self.sources[i].pk].name_keys})
        common_names_record(entity_type, found)  # alone, before the review's transaction: it holds nothing else
        with transaction.atomic():
            before = {i: self.decided[i][0] for i in self.by_name}
            self._similar_names(self.by_name, self.decided, common)
            reviewed = []
            for i in self.by_name:
                outcome, _, best = self.decided[i]
                if outcome != before[i]:
                    decision = self.decisions[i]
                    decision.outcome, decision.candidate_golden_id = outcome, best.golden_record_id
                    decision.score, decision.contributions = best.probability, best.contributions
                    reviewed.append(decision)
            rows_update(MatchDecision, reviewed, ["outcome", "candidate_golden_id", "score", "contributions"])

    def _similar_names(self, alone: Sequence[int], decided, common: set[str]) -> None:
        views = [self.views[self.sources[i].pk] for i in alone]
        found = similar_names(self.matcher.entity_type, views, common=common)
        others = [[c for c in found.get(view.pk, []) if c.golden_record_id != decided[i][1]]
                  for i, view in zip(alone, views, strict=True)]
        pairs = [(view.values, candidates) for view, candidates in zip(views, others, strict=True)]
        scored = score_many(self.matcher, pairs)  # the population and the values' counts read once for all
        for i, found_scores in zip(alone, scored, strict=True):
            ranked = _best_per_golden(found_scores, set())
            if ranked and _decide(self.matcher, ranked[0], name_only=True) == MatchOutcome.REVIEW:
                self._review(decided, i, ranked[0].golden_record_id, ranked[0])

    def _review(self, decided, i: int, other: Any, best: Scored) -> None:
        """A potential match of the record's golden record with another (unless a steward ruled it out); its
        decision is a review, as online."""
        own = decided[i][1]
        decided[i] = (MatchOutcome.REVIEW, own, best)
        if potential_match_open(entity_type=self.matcher.entity_type, record=own, other=other,
                                probability=best.probability, contributions=best.contributions) is not None:
            self.result.reviews += 1


@dataclass(frozen=True)
class _Live:
    """A live match view, as much of it as placing reads."""

    pk: Any
    golden_record_id: Any
    values: dict[str, str]


@dataclass(frozen=True)
class _Pairs:
    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    contributions: np.ndarray
    gamma: np.ndarray

    @classmethod
    def empty(cls) -> _Pairs:
        none = np.empty(0, dtype=np.int64)
        return cls(none, none, np.empty(0), np.empty((0, 0)), np.empty((0, 0), dtype=np.int8))


def _link(n: int, count: int, pairs: _Pairs, golden: Sequence[Any], threshold: float) -> tuple[np.ndarray, dict]:
    """Clusters of the chunk's records: pairs at or above the match threshold linked best first (ties in pair
    order), a link refused when it would put two existing golden records in one cluster. Returns each record's
    cluster and, for each landed record that was linked, the best pair linking it into its cluster."""
    parent = list(range(n))
    owner: list[Any] = list(golden)  # per root: the existing golden record in its cluster, if any

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    matched = np.flatnonzero(pairs.probability >= threshold)
    order = matched[np.argsort(-pairs.probability[matched], kind="stable")]
    links = []
    for k in order.tolist():
        a, b = int(pairs.left[k]), int(pairs.right[k])
        ra, rb = root(a), root(b)
        if ra == rb:
            links.append(k)
            continue
        if owner[ra] is not None and owner[rb] is not None and owner[ra] != owner[rb]:
            continue
        parent[rb] = ra
        owner[ra] = owner[ra] if owner[ra] is not None else owner[rb]
        links.append(k)
    cluster = np.array([root(i) for i in range(n)], dtype=np.int64)
    joined: dict[int, int] = {}
    for k in links:  # best first: a record's first link is its best one within its cluster
        for i in (int(pairs.left[k]), int(pairs.right[k])):
            if i < count and i not in joined:
                joined[i] = k
    return cluster, joined


def _keyed(landed: Sequence[MatchRecord], live: Mapping[str, int]) -> list[bool]:
    """Whether each landed record shares a blocking key with another record, landed or live (``live``: how many
    live records hold each key, as far as they were read), as the online path asks before it looks names up."""
    holders: dict[str, int] = defaultdict(int)
    for row in landed:
        for key in set(row.block_keys):
            holders[key] += 1
    return [any(holders[key] + live.get(key, 0) > 1 for key in row.block_keys) for row in landed]


def _log_refused(source: SourceRecord, error: ValidationError) -> None:
    logger.info("landed source record parked", extra={"source_record": str(source.pk),
                                                       "reason": "; ".join(error.messages)[:300]})
