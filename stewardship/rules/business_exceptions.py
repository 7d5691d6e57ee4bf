"""Business-exception predicates, keyed by ``BusinessExceptionRule.kind``: plain functions over plain facts.

Each asks a question finance or delivery asks on a schedule ("is there a completed milestone nobody has
invoiced?") and allows a grace period: a condition becomes an exception only once ``grace_days`` have passed
since the day it started. stewardship.services.exceptions loads the facts, calls these, and raises a
``business_exception`` task per finding, carrying the money at stake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

from rapidfuzz.distance import JaroWinkler

from canonical.matching import normalise

CLOSED_WON_WITHOUT_PSA_PROJECT = "closed_won_without_psa_project"
PROJECT_AWAITING_ERP_ACTIVATION = "project_awaiting_erp_activation"
MILESTONE_COMPLETED_NOT_INVOICED = "milestone_completed_not_invoiced"
APPROVED_TIME_NOT_BILLED = "approved_time_not_billed"
FORECAST_NOT_DELIVERED_TO_FPA = "forecast_not_delivered_to_fpa"
CLIENT_ATTRIBUTES_DISAGREE = "client_attributes_disagree"

KINDS = (
    CLOSED_WON_WITHOUT_PSA_PROJECT, PROJECT_AWAITING_ERP_ACTIVATION, MILESTONE_COMPLETED_NOT_INVOICED,
    APPROVED_TIME_NOT_BILLED, FORECAST_NOT_DELIVERED_TO_FPA, CLIENT_ATTRIBUTES_DISAGREE,
)

# Engagement statuses that mean the deal was won (the CRM says "active" once an opportunity is closed-won).
WON_STATUSES = ("active", "on_hold", "completed")
STARTED_STATUSES = ("active", "on_hold", "completed")
DEFAULT_CLIENT_ATTRIBUTES = ("legal_name", "tax_id", "country", "billing_postcode", "website_domain")
DEFAULT_NAME_SIMILARITY = 0.9


def overdue(since: date | None, *, today: date, grace_days: int) -> bool:
    """True once ``grace_days`` whole days have passed since ``since`` (never for an unknown start)."""
    return since is not None and today - since >= timedelta(days=grace_days)


def closed_won_without_psa_project(*, won_on: date | None, status: str, has_psa_project: bool, today: date,
                                   grace_days: int) -> bool:
    """Won (booked, or closed-won in the CRM) and still no project in a PSA after the grace period."""
    return not has_psa_project and status != "cancelled" and overdue(won_on, today=today, grace_days=grace_days)


def project_awaiting_erp_activation(*, status: str, starts_on: date | None, has_psa_project: bool,
                                    has_erp_project: bool, today: date, grace_days: int,
                                    statuses: Sequence[str] = STARTED_STATUSES) -> bool:
    """A project the PSA runs (work started) that the ERP has not set up, so its time and milestones cannot be
    billed, once the grace period after its start has passed."""
    return (has_psa_project and not has_erp_project and status in statuses
            and overdue(starts_on, today=today, grace_days=grace_days))


def milestone_completed_not_invoiced(*, completed_on: date | None, amount: Decimal | None, status: str,
                                     invoiced: bool, today: date, grace_days: int) -> bool:
    """A completed milestone with an amount to bill, neither invoiced (no invoice event) nor marked invoiced."""
    return (amount is not None and amount > 0 and not invoiced and status != "invoiced"
            and overdue(completed_on, today=today, grace_days=grace_days))


@dataclass(frozen=True)
class Unbilled:
    amount: Decimal
    since: date  # the day of the oldest approval not covered by invoices


def approved_time_not_billed(*, approvals: Sequence[tuple[date, Decimal]], invoiced: Decimal, today: date,
                             grace_days: int, tolerance: Decimal = Decimal("0.01")) -> Unbilled | None:
    """Approved time older than the grace period that the invoices so far do not cover (oldest first).

    Invoices are matched to approvals in date order, as billing in arrears does: what remains of the approved
    amount after all invoices is unbilled, and dates from the first approval the invoices stop covering.
    """
    due = sorted((day, amount) for day, amount in approvals if overdue(day, today=today, grace_days=grace_days))
    unbilled = sum((amount for _, amount in due), Decimal("0")) - invoiced
    if unbilled <= tolerance:
        return None
    covered = Decimal("0")
    for day, amount in due:
        covered += amount
        if covered > invoiced + tolerance:
            return Unbilled(unbilled, day)
    return None  # unreachable: the loop ends past ``invoiced``


def forecast_not_delivered_to_fpa(*, revised_on: date, in_fpa: bool, today: date, grace_days: int) -> bool:
    """The latest forecast revision of an engagement that no FP&A system holds (it neither came from one nor
    was delivered to one) once the grace period has passed."""
    return not in_fpa and overdue(revised_on, today=today, grace_days=grace_days)


@dataclass(frozen=True)
class Copy:
    """One platform's copy of a client, as client_attributes_disagree compares them."""

    system: str
    attributes: Mapping[str, Any]
    changed_on: date | None = None


@dataclass(frozen=True)
class Disagreement:
    attribute: str
    values: dict[str, str] = field(default_factory=dict)  # system -> value as the platform holds it


def _comparable(attribute: str, value: Any, country: str) -> str:
    """The value in the form two platforms should agree on: "Acme Ltd" and "ACME Limited" are one name."""
    text = value if isinstance(value, str) else str(value)
    if attribute in ("legal_name", "display_name"):
        return normalise.company_name(text)
    if attribute == "tax_id":
        return normalise.tax_id(text, country) or normalise.text(text).replace(" ", "")
    if attribute in ("country", "billing_country"):
        return normalise.country(text) or text.strip().upper()
    if attribute == "billing_postcode":
        return normalise.postcode(text, country) or normalise.text(text).replace(" ", "")
    if attribute == "website_domain":
        return normalise.domain(text) or text.strip().lower()
    if attribute == "currency":
        return normalise.currency(text) or text.strip().upper()
    return normalise.text(text)


FUZZY_ATTRIBUTES = ("legal_name", "display_name", "billing_street", "billing_city")


def client_attributes_disagree(*, copies: Sequence[Copy], attributes: Sequence[str] = DEFAULT_CLIENT_ATTRIBUTES,
                               name_similarity: float = DEFAULT_NAME_SIMILARITY) -> list[Disagreement]:
    """The key attributes two platforms hold differently, beyond tolerance.

    Values are compared normalised (legal forms, spacing, case and country names do not count). Names and
    street lines may differ up to ``name_similarity`` (Jaro-Winkler, 0..1); codes and identifiers must be equal.
    A platform that does not hold the attribute does not disagree.
    """
    found = []
    for attribute in attributes:
        held: dict[str, tuple[str, str]] = {}
        for copy in copies:
            value = copy.attributes.get(attribute)
            if value in (None, "") or isinstance(value, dict | list):
                continue
            country = str(copy.attributes.get("country") or "")
            held[copy.system] = (str(value), _comparable(attribute, value, country))
        differ = False
        for (_, (_, a)), (_, (_, b)) in combinations(held.items(), 2):
            if attribute in FUZZY_ATTRIBUTES:
                differ = JaroWinkler.normalized_similarity(a, b) < name_similarity
            else:
                differ = a != b
            if differ:
                break
        if differ:
            found.append(Disagreement(attribute, {system: raw for system, (raw, _) in sorted(held.items())}))
    return found
