"""Data quality: run the enabled rules on golden records and keep one ``data_quality`` task per violation.

A violation of rule R on record X opens (or refreshes, or reopens) the task ``dq:<R>:<X>``; when X is checked
again and R holds, the task resolves itself. Records are checked when they change (``quality_feed_follow``
follows the change feed, as the outbound relay does, and also re-checks the records a cross-entity rule reads
from: a milestone's engagement, a change order's parent contract) and on demand (``quality_check_all``,
``manage.py check_quality``). A rule that is disabled or removed has its open tasks resolved on the next run.
The checks themselves are pure (stewardship.rules.data_quality); this module loads what they need, a few
queries per batch of records.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Count, Q

from canonical.choices import ChangeOperation, ContractKind, RevenueEventKind
from canonical.models import ChangeEvent, Contract, Milestone, RevenueEvent, SourceRecord
from canonical.registry import MODELS, model_for
from canonical.services.changes import change_events_sequence
from stewardship.models import DataQualityRule, FeedCursor, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.rules import data_quality as dq
from stewardship.services.tasks import Subject, steward_task_cause_gone, steward_task_raise

logger = logging.getLogger(__name__)

FEED = "data_quality"
PREFIX = "dq:"
FEED_BATCH = 2000
CHUNK = 500
BOOKED_KINDS = (RevenueEventKind.BOOKING, RevenueEventKind.CHANGE_ORDER)
# A change to one of these links moves the record under another parent: its old parent is re-checked too.
PARENT_LINKS = {"milestone": ("engagement",), "contract": ("engagement", "parent")}


@dataclass
class QualityResult:
    checked: int = 0
    opened: int = 0
    resolved: int = 0
    violations: list[str] = field(default_factory=list)  # cause keys of the violations found

    def add(self, other: QualityResult) -> None:
        self.checked += other.checked
        self.opened += other.opened
        self.resolved += other.resolved
        self.violations += other.violations

    def as_dict(self) -> dict[str, int]:
        return {"checked": self.checked, "opened": self.opened, "resolved": self.resolved,
                "violations": len(self.violations)}


@dataclass(frozen=True)
class RuleSet:
    """The enabled rules that can run, by entity type, and the enabled ones that cannot (code -> why)."""

    runnable: dict[str, list[dq.RuleSpec]]
    problems: dict[str, str]

    def codes(self, entity_type: str) -> set[str]:
        return {rule.code for rule in self.runnable.get(entity_type, [])}


def cause_key(rule_code: str, record_pk: Any) -> str:
    return f"{PREFIX}{rule_code}:{record_pk}"


def _attributes(entity_type: str) -> set[str]:
    return {f.name for f in model_for(entity_type)._meta.concrete_fields}


def _spec(rule: DataQualityRule) -> dq.RuleSpec:
    return dq.RuleSpec(code=rule.code, name=rule.name, entity_type=rule.entity_type, kind=rule.kind,
                       attribute=rule.attribute, params=rule.params or {}, priority=rule.priority)


def rule_problem(rule: DataQualityRule) -> str | None:
    """Why a rule cannot run (unknown entity type or kind, an attribute the entity lacks, bad params), or None."""
    if rule.entity_type not in MODELS:
        return f"unknown entity type {rule.entity_type!r}"
    return dq.rule_problem(_spec(rule), _attributes(rule.entity_type))


def quality_rules_load() -> RuleSet:
    runnable: dict[str, list[dq.RuleSpec]] = defaultdict(list)
    problems = {}
    for rule in DataQualityRule.objects.filter(enabled=True):
        problem = rule_problem(rule)
        if problem:
            logger.warning("data-quality rule cannot run", extra={"rule": rule.code, "problem": problem})
            problems[rule.code] = problem
            continue
        runnable[rule.entity_type].append(_spec(rule))
    return RuleSet(dict(runnable), problems)


def _values(record: models.Model) -> dict[str, Any]:
    """Attribute -> value; a foreign key as the related record's id."""
    return {f.name: getattr(record, f.attname) for f in record._meta.concrete_fields}


def _money(row: Mapping[str, Any], amount: str) -> dq.MoneyFact:
    return dq.MoneyFact(golden_id=row["golden_id"], amount=row[amount], currency=row["currency"],
                        kind=row.get("kind", ""))


def _related(entity_type: str, pks: Collection[Any], needs: Collection[str]) -> dict[Any, dq.Related]:
    """What the checks in ``needs`` read about rows related to each record: one query per need."""
    facts: dict[Any, dict[str, Any]] = {pk: defaultdict(list) for pk in pks}
    if dq.ACTIVE_SOURCES in needs:
        counts = dict(SourceRecord.objects.filter(entity_type=entity_type, golden_record_id__in=pks, is_deleted=False)
                      .values("golden_record_id").annotate(n=Count("pk")).values_list("golden_record_id", "n"))
        for pk in pks:
            facts[pk]["active_sources"] = counts.get(pk, 0)
    if dq.CONTRACTS in needs:
        for row in (Contract.objects.filter(engagement_id__in=pks, merged_into__isnull=True).order_by("golden_id")
                    .values("engagement_id", "golden_id", "kind", "status", "signed_date")):
            facts[row.pop("engagement_id")]["contracts"].append(dq.ContractFact(**row))
    if dq.MILESTONES in needs:
        for row in (Milestone.objects.filter(engagement_id__in=pks, merged_into__isnull=True).order_by("golden_id")
                    .values("engagement_id", "golden_id", "amount", "currency")):
            facts[row["engagement_id"]]["milestones"].append(_money(row, "amount"))
    if dq.CHANGE_ORDERS in needs:
        for row in (Contract.objects.filter(parent_id__in=pks, kind=ContractKind.CHANGE_ORDER,
                                            merged_into__isnull=True).order_by("golden_id")
                    .values("parent_id", "golden_id", "value_amount", "currency")):
            facts[row["parent_id"]]["change_orders"].append(_money(row, "value_amount"))
    if dq.BOOKED in needs:
        booked = (RevenueEvent.objects.filter(kind__in=BOOKED_KINDS)
                  .filter(Q(contract_id__in=pks) | Q(contract__parent_id__in=pks,
                                                      contract__kind=ContractKind.CHANGE_ORDER))
                  .order_by("golden_id")
                  .values("golden_id", "amount", "currency", "kind", "contract_id", "contract__kind",
                          "contract__parent_id"))
        for row in booked:
            is_order = row["contract__kind"] == ContractKind.CHANGE_ORDER
            root = row["contract__parent_id"] if is_order else row["contract_id"]
            if root in facts:
                facts[root]["booked"].append(_money(row, "amount"))
    return {pk: dq.Related(**{k: tuple(v) if isinstance(v, list) else v for k, v in f.items()})
            for pk, f in facts.items()}


def _raise(rule: dq.RuleSpec, record: models.Model, violations: list[dq.Violation]) -> bool:
    attributes = list(dict.fromkeys(v.attribute for v in violations))
    attribute = ", ".join(attributes)
    message = "; ".join(v.message for v in violations)
    value = violations[0].value if len(violations) == 1 else [v.value for v in violations]
    _, opened = steward_task_raise(
        kind=TaskKind.DATA_QUALITY, cause_key=cause_key(rule.code, record.pk),
        title=f"{rule.name} ({attribute}): {record}", domain=rule.entity_type,
        subjects=[Subject(record.pk, record.golden_id)], priority=rule.priority,
        details={"rule": rule.code, "rule_name": rule.name, "attribute": attribute, "message": message,
                 "value": value, "entity_type": rule.entity_type, "golden_id": record.golden_id},
    )
    return opened


def _check(entity_type: str, pks: Collection[Any], rules: RuleSet) -> QualityResult:
    """Check these records of one entity type against its rules; resolve their tasks whose violation is gone."""
    result = QualityResult()
    specs = rules.runnable.get(entity_type, [])
    records = list(model_for(entity_type).objects.filter(pk__in=pks))
    live = [r for r in records if r.merged_into_id is None]
    needs = set().union(*(dq.CHECKS[rule.kind].needs for rule in specs))
    related = _related(entity_type, [r.pk for r in live], needs)
    present = set()
    for record in live:
        values = _values(record)
        for rule in specs:
            violations = dq.evaluate(rule, values, related.get(record.pk, dq.Related()))
            if violations:
                key = cause_key(rule.code, record.pk)
                present.add(key)
                result.violations.append(key)
                result.opened += _raise(rule, record, violations)
    result.checked = len(records)
    merged = {str(r.pk): r for r in records if r.merged_into_id is not None}
    checked = {str(r.pk) for r in records}
    codes = rules.codes(entity_type)
    active = (StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY, status__in=ACTIVE_STATUSES,
                                         cause_key__startswith=PREFIX, record_ids__overlap=[r.pk for r in records])
              .values_list("cause_key", flat=True))
    for key in list(active):
        code, _, record_pk = key[len(PREFIX):].partition(":")
        if key in present or record_pk not in checked or code in rules.problems:
            continue
        if record_pk in merged:
            note = f"the record was merged into another ({merged[record_pk].merged_into_id})"
        elif code in codes:
            note = f"fixed: {code} holds again"
        else:
            continue  # a retired rule: quality_rules_settle resolves these
        result.resolved += steward_task_cause_gone(kind=TaskKind.DATA_QUALITY, cause_key=key, note=note) is not None
    return result


def quality_rules_settle(rules: RuleSet | None = None) -> int:
    """Resolve the open tasks of rules that are disabled or no longer exist. Returns how many."""
    rules = rules or quality_rules_load()
    running = {rule.code for specs in rules.runnable.values() for rule in specs} | set(rules.problems)
    existing = set(DataQualityRule.objects.values_list("code", flat=True))
    resolved = 0
    active = StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY, status__in=ACTIVE_STATUSES,
                                        cause_key__startswith=PREFIX).values_list("cause_key", flat=True)
    for key in list(active):
        code = key[len(PREFIX):].partition(":")[0]
        if code in running:
            continue
        note = f"rule {code} is disabled" if code in existing else f"rule {code} no longer exists"
        resolved += steward_task_cause_gone(kind=TaskKind.DATA_QUALITY, cause_key=key, note=note) is not None
    return resolved


def _check_targets(targets: Mapping[str, Iterable[Any]], rules: RuleSet) -> QualityResult:
    result = QualityResult()
    for entity_type, ids in targets.items():
        pks = sorted(set(ids), key=str)
        if not pks or (entity_type not in rules.runnable and not _has_tasks(pks)):
            continue  # no rule checks this entity type and nothing is open on these records
        for start in range(0, len(pks), CHUNK):
            result.add(_check(entity_type, pks[start:start + CHUNK], rules))
    return result


def _has_tasks(pks: Iterable[Any]) -> bool:
    return StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY, status__in=ACTIVE_STATUSES,
                                      record_ids__overlap=list(pks)).exists()


def golden_record_quality_check(*, record: models.Model) -> QualityResult:
    """Check one golden record against its entity's enabled rules: a task per violation, resolve the rest."""
    return _check(record.ENTITY_TYPE, [record.pk], quality_rules_load())


def quality_check_all(*, entity_type: str | None = None) -> QualityResult:
    """Check every record (of one entity type, or all), then resolve the tasks of retired rules."""
    rules = quality_rules_load()
    types = [entity_type] if entity_type else list(MODELS)
    result = QualityResult()
    for name in types:
        result.add(_check_targets({name: model_for(name).objects.values_list("pk", flat=True)}, rules))
    result.resolved += quality_rules_settle(rules)
    return result


def _parents(events: list[dict[str, Any]]) -> dict[str, set[Any]]:
    """The changed records and those whose rules read them: a merged record's survivor, a milestone's engagement,
    a contract's engagement and (for a change order) its parent contract, the contract a booking was booked
    against; their previous parents too when a record moved."""
    changed: dict[str, set[Any]] = defaultdict(set)
    for event in events:
        changed[event["entity_type"]].add(event["record_id"])
    parents: dict[str, set[Any]] = defaultdict(set)
    merges = [event["id"] for event in events if event["operation"] == ChangeOperation.MERGED]
    for entity_type, survivor in ChangeEvent.objects.filter(pk__in=merges).values_list("entity_type",
                                                                                       "data__merged_into"):
        parents[entity_type].add(survivor)  # the survivor took over the merged record's sources and references
    for engagement_id in Milestone.objects.filter(pk__in=changed["milestone"]).values_list("engagement_id", flat=True):
        parents["engagement"].add(engagement_id)
    for engagement_id, parent_id, kind in (Contract.objects.filter(pk__in=changed["contract"])
                                           .values_list("engagement_id", "parent_id", "kind")):
        if engagement_id:
            parents["engagement"].add(engagement_id)
        if kind == ContractKind.CHANGE_ORDER:
            parents["contract"].add(parent_id)
    for contract_id, kind, parent_id in (RevenueEvent.objects.filter(pk__in=changed["revenue_event"],
                                                                     kind__in=BOOKED_KINDS, contract__isnull=False)
                                         .values_list("contract_id", "contract__kind", "contract__parent_id")):
        parents["contract"].add(parent_id if kind == ContractKind.CHANGE_ORDER else contract_id)
    moved = Q()
    for event in events:
        links = PARENT_LINKS.get(event["entity_type"], ())
        if event["version"] > 1 and any(link in event["changed_fields"] for link in links):
            moved |= Q(record_id=event["record_id"], version=event["version"] - 1)
    if moved:
        for previous in ChangeEvent.objects.filter(moved).values("entity_type", "data"):
            old = previous["data"]
            if old.get("engagement"):
                parents["engagement"].add(old["engagement"])
            if previous["entity_type"] == "contract" and old.get("kind") == ContractKind.CHANGE_ORDER:
                parents["contract"].add(old.get("parent"))
    for name, pks in parents.items():
        changed[name] |= {uuid.UUID(str(pk)) for pk in pks if pk}
    return changed


def _awaiting_a_source(rules: RuleSet) -> dict[str, set[Any]]:
    """Records with an open has_active_source task. A copy coming back restores the record's sources, but when it
    holds the values the record already has, no golden change (and so no change event) says so: these records
    are re-checked on every run rather than waiting for the next on-demand check."""
    codes = {rule.code: entity_type for entity_type, specs in rules.runnable.items() for rule in specs
             if rule.kind == dq.HAS_ACTIVE_SOURCE}
    waiting: dict[str, set[Any]] = defaultdict(set)
    if not codes:
        return waiting
    prefixes = Q()
    for code in codes:
        prefixes |= Q(cause_key__startswith=cause_key(code, ""))
    for key, record_ids in (StewardTask.objects.filter(prefixes, kind=TaskKind.DATA_QUALITY,
                                                       status__in=ACTIVE_STATUSES)
                            .values_list("cause_key", "record_ids")):
        waiting[codes[key[len(PREFIX):].partition(":")[0]]].update(record_ids)
    return waiting


def quality_feed_follow(*, limit: int = FEED_BATCH) -> dict[str, int]:
    """Check the records changed since the last call (and the parents their cross-entity rules read), then
    move the feed cursor past them. One batch of ``limit`` change events per call; a second concurrent
    caller returns at once. Records waiting for a source are re-checked too (see _awaiting_a_source), and
    the tasks of retired rules are resolved."""
    change_events_sequence()
    FeedCursor.objects.get_or_create(name=FEED)
    rules = quality_rules_load()
    with transaction.atomic():
        cursor = FeedCursor.objects.select_for_update(skip_locked=True).filter(name=FEED).first()
        if cursor is None:
            return {"events": 0, "checked": 0, "opened": 0, "resolved": 0, "violations": 0}
        events = list(ChangeEvent.objects.filter(position__gt=cursor.position).order_by("position")
                      .values("id", "position", "entity_type", "record_id", "version", "operation",
                              "changed_fields")[:limit])
        targets = _parents(events) if events else defaultdict(set)
        for entity_type, pks in _awaiting_a_source(rules).items():
            targets[entity_type] |= pks
        result = _check_targets(targets, rules)
        if events:
            cursor.position = events[-1]["position"]
            cursor.save(update_fields=["position"])
    result.resolved += quality_rules_settle(rules)
    return {"events": len(events), **result.as_dict(), "position": cursor.position}
