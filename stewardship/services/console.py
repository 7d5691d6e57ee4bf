"""A potential match laid out side by side for the steward console: each attribute of both records with the
platforms that hold it, what the merged record would hold, and the evidence of the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canonical import survivorship
from canonical.models import PotentialMatch, SourceRecord
from canonical.services.golden import source_values
from stewardship.models import StewardTask
from stewardship.services.decisions import potential_match_pair
from stewardship.services.values import value_plain, value_present, value_same

SIDES = ("a", "b")


@dataclass(frozen=True)
class SourceView:
    """One platform's copy of a record, as the console lists it."""

    id: str
    system: str
    object_type: str
    external_id: str
    is_deleted: bool
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class SideValue:
    value: Any
    system: str = ""  # the platform whose copy gave the golden value (lineage)
    rule: str = ""
    systems: tuple[str, ...] = ()  # every active copy holding this value
    others: tuple[tuple[str, Any], ...] = ()  # copies of this record that say something else


@dataclass(frozen=True)
class CompareRow:
    attribute: str
    label: str
    a: SideValue
    b: SideValue
    rules_value: Any  # what survivorship gives the merged record from both records' copies
    rules_system: str
    rules_rule: str

    @property
    def differs(self) -> bool:
        return not value_same(self.a.value, self.b.value)

    @property
    def conflict(self) -> bool:
        """Both records hold a value and they differ: the steward may pick the one that survives."""
        return self.differs and value_present(value_plain(self.a.value)) and value_present(value_plain(self.b.value))

    @property
    def rules_side(self) -> str:
        """Which record's value the rules keep ("a", "b", "" when neither, "ab" when both agree)."""
        return "".join(side for side, v in zip(SIDES, (self.a, self.b), strict=True)
                       if value_present(self.rules_value) and value_same(v.value, self.rules_value))


@dataclass(frozen=True)
class PairComparison:
    task: StewardTask
    match: PotentialMatch
    a: Any
    b: Any
    rows: list[CompareRow]
    sources: Mapping[str, list[SourceView]] = field(default_factory=dict)

    @property
    def conflicts(self) -> list[CompareRow]:
        return [row for row in self.rows if row.conflict]

    @property
    def contributions(self) -> list[tuple[str, str, float]]:
        """(comparison, level, weight) per compared field, strongest evidence first."""
        rows = [(name, str(c.get("level", "")), float(c.get("weight") or 0))
                for name, c in (self.match.contributions or {}).items()]
        return sorted(rows, key=lambda r: (-abs(r[2]), r[0]))


def _sources(record: Any) -> list[SourceRecord]:
    return list(SourceRecord.objects.filter(entity_type=record.ENTITY_TYPE, golden_record_id=record.pk)
                .select_related("system").order_by("system__key", "external_id"))


def _side(record: Any, attribute: str, sources: Sequence[SourceRecord]) -> SideValue:
    value = getattr(record, attribute)
    lineage = (record.lineage or {}).get(attribute, {})
    holding, others = [], []
    for source in sources:
        if source.is_deleted or attribute not in source.attributes:
            continue
        raw = source.attributes.get(attribute)
        if isinstance(raw, Mapping):  # a reference to a related record: the lineage says which copy gave it
            continue
        if value_same(raw, value):
            holding.append(source.system.key)
        elif value_present(raw):
            others.append((source.system.key, raw))
    return SideValue(value=value, system=lineage.get("system") or "", rule=lineage.get("rule") or "",
                     systems=tuple(dict.fromkeys(holding)), others=tuple(others))


def _rules(entity_type: str, attributes: Sequence[str], sources: Sequence[SourceRecord]) -> dict:
    return survivorship.survive(entity_type, attributes, source_values([s for s in sources if not s.is_deleted]))


def potential_match_compare(*, task: StewardTask) -> PairComparison:
    """Both records of a potential-match task, attribute by attribute, with where each value came from."""
    a, b = potential_match_pair(task)
    model = type(a)
    sources = {"a": _sources(a), "b": _sources(b)}
    rules = _rules(model.ENTITY_TYPE, model.SURVIVED_ATTRIBUTES, sources["a"] + sources["b"])
    rows = []
    for attribute in model.SURVIVED_ATTRIBUTES:
        survivor = rules.get(attribute)
        rows.append(CompareRow(
            attribute=attribute, label=str(model._meta.get_field(attribute).verbose_name),
            a=_side(a, attribute, sources["a"]), b=_side(b, attribute, sources["b"]),
            rules_value=survivor.value if survivor else None, rules_system=survivor.system or "" if survivor else "",
            rules_rule=survivor.rule if survivor else "",
        ))
    views = {side: [SourceView(str(s.pk), s.system.key, s.object_type, s.external_id, s.is_deleted, s.attributes)
                    for s in found] for side, found in sources.items()}
    return PairComparison(task=task, match=task.potential_match, a=a, b=b, rows=rows, sources=views)
