"""Survivorship: which source's value becomes the golden value, per entity and attribute.

Plain logic over plain values (no ORM), so it is easy to test and the same everywhere it is used.
The rules are configuration: ``RULES[entity_type][attribute] = Rule(strategy, priority)``. Attributes
not listed use ``DEFAULT`` (most recent by the platform's own timestamp).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

SOURCE_PRIORITY = "source_priority"
MOST_RECENT = "most_recent"
MOST_COMPLETE = "most_complete"
MOST_FREQUENT = "most_frequent"
AGGREGATE = "aggregate"
STEWARD_OVERRIDE = "steward_override"
FALLBACK = "fallback"

CRM = ("salesforce",)
PSA = ("certinia", "kantata")
ERP = ("netsuite", "dynamics365")
FPA = ("anaplan", "adaptive_planning")


@dataclass(frozen=True)
class Rule:
    strategy: str = MOST_RECENT
    # System kinds in order of authority, for SOURCE_PRIORITY; others fall back to most recent.
    priority: tuple[str, ...] = ()
    # Another attribute whose surviving value this one takes when no source (and no steward) gives it one.
    fallback: str | None = None

    @cached_property
    def rank(self) -> dict[str, int]:
        """System kind -> its place in ``priority``."""
        return {kind: i for i, kind in enumerate(self.priority)}


@dataclass(frozen=True)
class SourceValues:
    """One active source record as survivorship sees it."""

    source_record_id: str
    system_kind: str
    system_key: str
    modified_at: datetime | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # attribute -> when its value last changed in this copy (ISO text or datetime); else ``modified_at``.
    attribute_times: Mapping[str, Any] = field(default_factory=dict)

    def changed_at(self, attribute: str | None) -> datetime | None:
        held = self.attribute_times.get(attribute) if attribute else None
        if isinstance(held, str):
            held = _parse_time(held)
        return held or self.modified_at


# A golden record's sources share their times across attributes (a copy's attributes mostly change together).
_parse_time = lru_cache(maxsize=4_096)(datetime.fromisoformat)


@dataclass(frozen=True)
class Survivor:
    value: Any
    source_record_id: str | None
    system: str | None
    rule: str


DEFAULT = Rule(MOST_RECENT)

RULES: dict[str, dict[str, Rule]] = {
    "client": {
        # The ERP bills the client: it is authoritative for legal and billing identity.
        "legal_name": Rule(SOURCE_PRIORITY, ERP + CRM),
        "tax_id": Rule(SOURCE_PRIORITY, ERP),
        "billing_street": Rule(SOURCE_PRIORITY, ERP + CRM),
        "billing_city": Rule(SOURCE_PRIORITY, ERP + CRM),
        "billing_region": Rule(SOURCE_PRIORITY, ERP + CRM),
        "billing_postcode": Rule(SOURCE_PRIORITY, ERP + CRM),
        "billing_country": Rule(SOURCE_PRIORITY, ERP + CRM),
        "currency": Rule(SOURCE_PRIORITY, ERP + CRM),
        "country": Rule(SOURCE_PRIORITY, ERP + CRM),
        # The CRM owns the relationship: how the firm refers to the client, its sector, its hierarchy. A client no
        # CRM knows goes by its legal name (as the CRM itself names it when the hub creates it there).
        "display_name": Rule(SOURCE_PRIORITY, CRM, fallback="legal_name"),
        "industry": Rule(SOURCE_PRIORITY, CRM),
        "parent": Rule(SOURCE_PRIORITY, CRM + ERP),
        "website_domain": Rule(MOST_FREQUENT),
    },
    "engagement": {
        # Sold in the CRM, delivered in the PSA, billed in the ERP.
        "name": Rule(SOURCE_PRIORITY, PSA + CRM + ERP),
        "status": Rule(SOURCE_PRIORITY, PSA + ERP + CRM),
        "start_date": Rule(SOURCE_PRIORITY, PSA + CRM),
        "end_date": Rule(SOURCE_PRIORITY, PSA + CRM),
        "budget_amount": Rule(SOURCE_PRIORITY, CRM + PSA),
        "currency": Rule(SOURCE_PRIORITY, CRM + ERP),
        "engagement_type": Rule(SOURCE_PRIORITY, CRM + PSA),
        "practice": Rule(SOURCE_PRIORITY, PSA + CRM),
        "delivery_owner": Rule(SOURCE_PRIORITY, PSA),
        "code": Rule(SOURCE_PRIORITY, PSA + ERP),
    },
    "milestone": {
        "status": Rule(SOURCE_PRIORITY, PSA + ERP),
        "completed_date": Rule(SOURCE_PRIORITY, PSA),
        "amount": Rule(SOURCE_PRIORITY, CRM + PSA),
    },
    "contract": {
        "value_amount": Rule(SOURCE_PRIORITY, CRM + ERP),
        "billing_terms": Rule(SOURCE_PRIORITY, ERP + CRM),
        "signed_date": Rule(SOURCE_PRIORITY, CRM),
        "status": Rule(SOURCE_PRIORITY, CRM + ERP),
    },
}


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _by_recency(sources: Sequence[SourceValues], attribute: str | None = None) -> list[SourceValues]:
    """Newest first by when the platform last changed this attribute (its own timestamp of the copy where the
    value changed); ties broken by id so the result is deterministic."""

    def key(source: SourceValues) -> tuple:
        at = source.changed_at(attribute)
        return (at is not None, at.timestamp() if at else 0.0, source.source_record_id)

    if len(sources) < 2:  # most golden records have one source: nothing to order
        return list(sources)
    return sorted(sources, key=key, reverse=True)


def _pick(sources: Sequence[SourceValues], attribute: str, rule_name: str) -> Survivor | None:
    for source in sources:
        value = source.attributes.get(attribute)
        if _present(value):
            return Survivor(value, source.source_record_id, source.system_key, rule_name)
    return None


def survive_attribute(attribute: str, rule: Rule, sources: Sequence[SourceValues]) -> Survivor | None:
    if len(sources) == 1:
        return _alone(attribute, rule, sources[0])
    recent = _by_recency(sources, attribute)
    if rule.strategy == SOURCE_PRIORITY:
        rank = rule.rank
        ordered = sorted(recent, key=lambda s: rank.get(s.system_kind, len(rank)))
        chosen = _pick([s for s in ordered if s.system_kind in rank], attribute, SOURCE_PRIORITY)
        return chosen or _pick(recent, attribute, MOST_RECENT)
    if rule.strategy == MOST_FREQUENT:
        values = [s.attributes.get(attribute) for s in recent if _present(s.attributes.get(attribute))]
        if not values:
            return None
        counts = Counter(repr(v) for v in values)
        best = max(counts.values())
        # Among equally frequent values, the most recent wins.
        for source in recent:
            value = source.attributes.get(attribute)
            if _present(value) and counts[repr(value)] == best:
                return Survivor(value, source.source_record_id, source.system_key, MOST_FREQUENT)
    if rule.strategy == AGGREGATE:
        # Lists are united, not chosen between: each value once, in the order the newest sources give them.
        union: list = []
        for source in recent:
            value = source.attributes.get(attribute)
            for item in value if isinstance(value, list) else ([value] if _present(value) else []):
                if item not in union:
                    union.append(item)
        contributors = [s for s in recent if _present(s.attributes.get(attribute))]
        if not union:
            return None
        return Survivor(union, contributors[0].source_record_id, contributors[0].system_key, AGGREGATE)
    if rule.strategy == MOST_COMPLETE:
        candidates = [s for s in recent if _present(s.attributes.get(attribute))]
        if not candidates:
            return None
        best_source = max(candidates, key=lambda s: (len(str(s.attributes[attribute])), -recent.index(s)))
        return Survivor(best_source.attributes[attribute], best_source.source_record_id, best_source.system_key,
                        MOST_COMPLETE)
    return _pick(recent, attribute, MOST_RECENT)


def _alone(attribute: str, rule: Rule, source: SourceValues) -> Survivor | None:
    """survive_attribute with one source (most golden records have one): its value, if it has one, under the
    rule's name, as each strategy names it then (source priority from a system it does not rank: most recent)."""
    value = source.attributes.get(attribute)
    if rule.strategy == AGGREGATE:
        union: list = []
        for item in value if isinstance(value, list) else ([value] if _present(value) else []):
            if item not in union:
                union.append(item)
        return Survivor(union, source.source_record_id, source.system_key, AGGREGATE) if union else None
    if not _present(value):
        return None
    if rule.strategy == SOURCE_PRIORITY:
        name = SOURCE_PRIORITY if source.system_kind in rule.rank else MOST_RECENT
    else:
        name = rule.strategy if rule.strategy in (MOST_FREQUENT, MOST_COMPLETE) else MOST_RECENT
    return Survivor(value, source.source_record_id, source.system_key, name)


def survive(
    entity_type: str,
    attributes: Sequence[str],
    sources: Sequence[SourceValues],
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Survivor]:
    """The surviving value of each attribute that any source (or a steward override) provides."""
    rules = RULES.get(entity_type, {})
    overrides = overrides or {}
    result: dict[str, Survivor] = {}
    for attribute in attributes:
        if attribute in overrides:
            result[attribute] = Survivor(overrides[attribute], None, None, STEWARD_OVERRIDE)
            continue
        survivor = survive_attribute(attribute, rules.get(attribute, DEFAULT), sources)
        if survivor is not None:
            result[attribute] = survivor
    for attribute in attributes:
        fallback = rules.get(attribute, DEFAULT).fallback
        if attribute not in result and fallback in result:
            taken = result[fallback]
            result[attribute] = Survivor(taken.value, taken.source_record_id, taken.system, FALLBACK)
    return result
