"""Data-quality checks of golden records, keyed by ``DataQualityRule.kind``.

Each check is a plain function over the record's values (attribute -> value, foreign keys as ids) and the
facts about related rows the service loaded for it (``Related``). It returns the violations it found, each
naming the attribute concerned. No ORM here: stewardship.services.quality loads the values and facts with
a few queries per batch of records and turns violations into steward tasks.

A rule's ``params`` may hold ``"when": {"status": ["active", "on_hold"]}``: the rule then applies only to
records whose attributes hold one of the listed values (every listed attribute must match).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pycountry

from canonical.matching import normalise

REQUIRED = "required"
FORMAT = "format"
REFERENCE = "reference"
CHECKSUM = "checksum"
CROSS_FIELD = "cross_field"
HAS_ACTIVE_SOURCE = "has_active_source"
ENGAGEMENT_HAS_SIGNED_CONTRACT = "engagement_has_signed_contract"
CHANGE_ORDERS_SUM_TO_REVISED = "change_orders_sum_to_revised"
MILESTONES_SUM_TO_FIXED_FEE = "milestones_sum_to_fixed_fee"

# What a check needs loaded besides the record's own values (the fields of ``Related``).
ACTIVE_SOURCES = "active_sources"
CONTRACTS = "contracts"
MILESTONES = "milestones"
CHANGE_ORDERS = "change_orders"
BOOKED = "booked"

ISO_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
ISO_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
REFERENCES: dict[str, frozenset[str]] = {"iso_country": ISO_COUNTRIES, "iso_currency": ISO_CURRENCIES}
REFERENCE_LABELS = {"iso_country": "an ISO 3166-1 alpha-2 country code", "iso_currency": "an ISO 4217 currency code"}
COMPARISONS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    ">=": (operator.ge, "on or after"), ">": (operator.gt, "after"), "<=": (operator.le, "on or before"),
    "<": (operator.lt, "before"), "==": (operator.eq, "equal to"), "!=": (operator.ne, "different from"),
}
SIGNED_STATUSES = ("signed", "active")
DEFAULT_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class RuleSpec:
    """A data-quality rule as the checks see it."""

    code: str
    name: str
    entity_type: str
    kind: str
    attribute: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 3


@dataclass(frozen=True)
class Violation:
    attribute: str
    message: str
    value: Any = None


@dataclass(frozen=True)
class ContractFact:
    """A contract of an engagement, as engagement_has_signed_contract needs it."""

    golden_id: str
    kind: str
    status: str
    signed_date: date | None = None


@dataclass(frozen=True)
class MoneyFact:
    """An amount of a related row: a milestone's amount, a change order's value, a booked revenue event."""

    golden_id: str
    amount: Decimal | None
    currency: str
    kind: str = ""


@dataclass(frozen=True)
class Related:
    """Facts about rows related to the record, loaded by the service for the checks that need them."""

    active_sources: int | None = None
    contracts: tuple[ContractFact, ...] = ()
    milestones: tuple[MoneyFact, ...] = ()
    change_orders: tuple[MoneyFact, ...] = ()
    booked: tuple[MoneyFact, ...] = ()


CheckFunction = Callable[[RuleSpec, Mapping[str, Any], Related], list[Violation]]


def plain(value: Any) -> Any:
    """A JSON-safe form of a value, for task details."""
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def applies(rule: RuleSpec, values: Mapping[str, Any]) -> bool:
    """Whether the rule's ``when`` condition holds for these values (no condition: always)."""
    when = rule.params.get("when") or {}
    return all(values.get(attribute) in allowed for attribute, allowed in when.items())


# --- checks of the record's own values ------------------------------------------------------------------------------

def required(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    if present(values.get(rule.attribute)):
        return []
    return [Violation(rule.attribute, f"{rule.attribute} is missing")]


def format_matches(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    value = values.get(rule.attribute)
    if not present(value) or re.fullmatch(rule.params["pattern"], str(value)):
        return []
    hint = rule.params.get("hint") or f"the pattern {rule.params['pattern']}"
    return [Violation(rule.attribute, f"{rule.attribute} {value!r} does not match {hint}", plain(value))]


def reference(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    value = values.get(rule.attribute)
    table = rule.params["reference"]
    if not present(value) or value in REFERENCES[table]:
        return []
    return [Violation(rule.attribute, f"{rule.attribute} {value!r} is not {REFERENCE_LABELS[table]}", plain(value))]


def checksum(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    """A tax number that fails the check of its scheme (by its VAT prefix, or its record's country). A number
    no scheme applies to is unknown, not invalid, and passes."""
    value = values.get(rule.attribute)
    if not present(value):
        return []
    country = values.get(rule.params.get("country_attribute", "country")) or ""
    if normalise.tax_id(str(value), country):
        return []
    scheme = f" for {country}" if country else ""
    return [Violation(rule.attribute, f"{rule.attribute} {value!r} fails the tax number check{scheme}", plain(value))]


def cross_field(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    """``attribute <op> params["other"]``, e.g. end_date >= start_date; checked only when both are present."""
    other = rule.params["other"]
    value, other_value = values.get(rule.attribute), values.get(other)
    if not present(value) or not present(other_value):
        return []
    compare, words = COMPARISONS[rule.params.get("op", ">=")]
    try:
        holds = compare(value, other_value)
    except TypeError:  # values of different kinds cannot be ordered: that is a violation too
        holds = False
    if holds:
        return []
    return [Violation(rule.attribute, f"{rule.attribute} {plain(value)} must be {words} {other} {plain(other_value)}",
                      plain(value))]


# --- checks that need related rows ----------------------------------------------------------------------------------

def has_active_source(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    """A golden record whose every platform copy was deleted: the hub marked it inactive, a steward decides."""
    if related.active_sources:
        return []
    attribute = rule.attribute or "sources"
    return [Violation(attribute, "no platform holds an active copy of this record any more (every source was "
                                 "deleted); it was deactivated", 0)]


def engagement_has_signed_contract(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    statuses = tuple(rule.params.get("contract_statuses", SIGNED_STATUSES))
    kinds = tuple(rule.params.get("contract_kinds", ("sow", "change_order")))
    if any(c.kind in kinds and c.status in statuses for c in related.contracts):
        return []
    attribute = rule.attribute or "contracts"
    held = ", ".join(f"{c.golden_id} {c.kind} {c.status}" for c in related.contracts if c.kind in kinds)
    return [Violation(attribute, f"{values.get('status')} engagement has no {' or '.join(statuses)} "
                                 f"{'/'.join(kinds)} contract" + (f" (it has {held})" if held else ""), held or None)]


def _tolerance(rule: RuleSpec) -> Decimal:
    return Decimal(str(rule.params.get("tolerance", DEFAULT_TOLERANCE)))


def _other_currency(facts: Sequence[MoneyFact], currency: str) -> list[str]:
    return [f.golden_id for f in facts if f.amount is not None and currency and f.currency != currency]


def milestones_sum_to_fixed_fee(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    """A fixed-fee engagement's milestone amounts add up to its fee (its budget). No milestones: nothing to add."""
    if not related.milestones:
        return []
    attribute = rule.attribute or "budget_amount"
    fee, currency = values.get("budget_amount"), values.get("currency") or ""
    foreign = _other_currency(related.milestones, currency)
    if foreign:
        return [Violation(attribute, f"milestones {', '.join(foreign)} are not in the engagement's currency "
                                     f"{currency}", foreign)]
    total = sum((m.amount for m in related.milestones if m.amount is not None), Decimal("0"))
    if fee is None:
        return [Violation(attribute, f"{attribute} (the fixed fee) is missing; its milestones add up to "
                                     f"{total} {currency}".rstrip(), None)]
    if abs(total - fee) <= _tolerance(rule):
        return []
    unpriced = [m.golden_id for m in related.milestones if m.amount is None]
    note = f" ({len(unpriced)} without an amount)" if unpriced else ""
    return [Violation(attribute, f"milestones add up to {total} {currency}{note}, but {attribute} (the fixed fee) "
                                 f"is {fee} {currency}", plain(fee))]


def change_orders_sum_to_revised(rule: RuleSpec, values: Mapping[str, Any], related: Related,
                                       ) -> list[Violation]:
    """A contract's revised value is what was sold: its booking plus its change orders' bookings (revenue events
    of kinds booking and change_order). Its value plus its change orders' values must add up to that. Checked
    once it has change orders and something was booked."""
    if not related.change_orders or not related.booked:
        return []
    attribute = rule.attribute or "value_amount"
    currency = values.get("currency") or ""
    foreign = _other_currency((*related.change_orders, *related.booked), currency)
    if foreign:
        return [Violation(attribute, f"{', '.join(foreign)} are not in the contract's currency {currency}", foreign)]
    value = values.get("value_amount") or Decimal("0")
    orders = sum((o.amount for o in related.change_orders if o.amount is not None), Decimal("0"))
    revised = sum((b.amount for b in related.booked if b.amount is not None), Decimal("0"))
    if abs(value + orders - revised) <= _tolerance(rule):
        return []
    return [Violation(attribute, f"{attribute} {value} plus change orders {orders} is {value + orders} {currency}, "
                                 f"but the revised value booked is {revised} {currency}", plain(value))]


@dataclass(frozen=True)
class Check:
    function: CheckFunction
    needs: frozenset[str] = frozenset()
    entity_types: frozenset[str] | None = None  # None: any entity type
    needs_attribute: bool = True
    required_params: tuple[str, ...] = ()


CHECKS: dict[str, Check] = {
    REQUIRED: Check(required),
    FORMAT: Check(format_matches, required_params=("pattern",)),
    REFERENCE: Check(reference, required_params=("reference",)),
    CHECKSUM: Check(checksum),
    CROSS_FIELD: Check(cross_field, required_params=("other",)),
    HAS_ACTIVE_SOURCE: Check(has_active_source, needs=frozenset({ACTIVE_SOURCES}), needs_attribute=False),
    ENGAGEMENT_HAS_SIGNED_CONTRACT: Check(engagement_has_signed_contract, needs=frozenset({CONTRACTS}),
                                          entity_types=frozenset({"engagement"}), needs_attribute=False),
    MILESTONES_SUM_TO_FIXED_FEE: Check(milestones_sum_to_fixed_fee, needs=frozenset({MILESTONES}),
                                       entity_types=frozenset({"engagement"}), needs_attribute=False),
    CHANGE_ORDERS_SUM_TO_REVISED: Check(change_orders_sum_to_revised,
                                              needs=frozenset({CHANGE_ORDERS, BOOKED}),
                                              entity_types=frozenset({"contract"}), needs_attribute=False),
}


def rule_problem(rule: RuleSpec, attributes: Collection[str]) -> str | None:
    """Why the rule cannot run on records with these attributes, or None if it can."""
    check = CHECKS.get(rule.kind)
    if check is None:
        return f"unknown kind {rule.kind!r} (one of {', '.join(CHECKS)})"
    if check.entity_types is not None and rule.entity_type not in check.entity_types:
        return f"{rule.kind} checks {', '.join(sorted(check.entity_types))} records, not {rule.entity_type}"
    if check.needs_attribute and rule.attribute not in attributes:
        return f"{rule.entity_type} has no attribute {rule.attribute!r}"
    missing = [p for p in check.required_params if p not in rule.params]
    if missing:
        return f"params need {', '.join(missing)}"
    if rule.kind == FORMAT:
        try:
            re.compile(rule.params["pattern"])
        except re.error as exc:
            return f"pattern does not compile: {exc}"
    if rule.kind == REFERENCE and rule.params["reference"] not in REFERENCES:
        return f"unknown reference {rule.params['reference']!r} (one of {', '.join(REFERENCES)})"
    if rule.kind == CROSS_FIELD:
        if rule.params["other"] not in attributes:
            return f"{rule.entity_type} has no attribute {rule.params['other']!r}"
        if rule.params.get("op", ">=") not in COMPARISONS:
            return f"unknown op {rule.params['op']!r} (one of {', '.join(COMPARISONS)})"
    when = rule.params.get("when") or {}
    if not isinstance(when, Mapping) or not all(isinstance(v, list) for v in when.values()):
        return 'when must map attributes to lists of values, e.g. {"status": ["active"]}'
    unknown = [a for a in when if a not in attributes]
    if unknown:
        return f"when names unknown attributes {', '.join(unknown)}"
    return None


def evaluate(rule: RuleSpec, values: Mapping[str, Any], related: Related) -> list[Violation]:
    """The rule's violations on one record (none when its ``when`` condition does not hold)."""
    if not applies(rule, values):
        return []
    return CHECKS[rule.kind].function(rule, values, related)
