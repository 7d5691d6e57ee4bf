"""Business exceptions: run the enabled rules on a schedule, one ``business_exception`` task per finding.

Each rule kind has a loader here that reads what its predicate (stewardship.rules.business_exceptions) needs,
a few queries for the whole book, and turns what the predicate flags into findings carrying the money at
stake (amount and currency), so the queue can be sorted by value. A finding opens, refreshes or reopens the
task ``bex:<rule>:<subject id>``; a task whose condition cleared resolves itself on the next run, and so do
the tasks of a disabled or removed rule.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Sum
from django.utils import timezone

from canonical.choices import EngagementStatus, EntityType, MilestoneStatus, RevenueEventKind
from canonical.models import Client, Engagement, Milestone, RevenueEvent, SourceRecord
from canonical.survivorship import CRM, ERP, FPA, PSA
from connectors.models import Delivery, DeliveryStatus
from stewardship.models import BusinessExceptionRule, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.rules import business_exceptions as bx
from stewardship.services.tasks import Subject, steward_task_cause_gone, steward_task_raise, steward_tasks_settle

logger = logging.getLogger(__name__)

PREFIX = "bex:"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Finding:
    """One exception a rule found: what it is about, and the money at stake."""

    subject_id: UUID
    title: str
    domain: str
    subjects: tuple[Subject, ...]
    amount: Decimal | None
    currency: str
    since: date
    details: dict[str, Any] = field(default_factory=dict)


Loader = Callable[[BusinessExceptionRule, date], list[Finding]]


def cause_key(rule_code: str, subject_id: Any) -> str:
    return f"{PREFIX}{rule_code}:{subject_id}"


def _day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _active_copies(entity_type: str, pks: Any, kinds: Collection[str]) -> dict[Any, list[dict[str, Any]]]:
    copies: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    rows = (SourceRecord.objects.filter(entity_type=entity_type, is_deleted=False, golden_record_id__in=pks,
                                        system__kind__in=kinds)
            .values("golden_record_id", "system__kind", "first_seen_at", "source_modified_at", "attributes"))
    for row in rows:
        copies[row["golden_record_id"]].append(row)
    return copies


def _engagement_name(row: dict[str, Any], prefix: str = "") -> str:
    return f"{row[prefix + 'golden_id']} {row[prefix + 'name']}".strip()


# --- loaders, one per kind ------------------------------------------------------------------------------------------

def closed_won_without_psa_project(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """Won: a booking revenue event (won on its date), or a CRM copy of the engagement saying closed-won (the hub
    does not hold the CRM's close date, so the grace period then runs from that copy's last change)."""
    booked = {row["engagement_id"]: row for row in (
        RevenueEvent.objects.filter(kind=RevenueEventKind.BOOKING, engagement__isnull=False)
        .values("engagement_id").annotate(won_on=Min("occurred_on"), amount=Sum("amount"), currency=Min("currency")))}
    crm_won: dict[Any, date] = {}
    for row in (SourceRecord.objects.filter(entity_type=EntityType.ENGAGEMENT, is_deleted=False,
                                            golden_record_id__isnull=False, system__kind__in=CRM,
                                            attributes__status__in=list(bx.WON_STATUSES))
                .values("golden_record_id", "source_modified_at", "first_seen_at")):
        day = _day(row["source_modified_at"] or row["first_seen_at"])
        crm_won[row["golden_record_id"]] = min(day, crm_won.get(row["golden_record_id"], day))
    candidates = set(booked) | set(crm_won)
    with_project = _active_copies(EntityType.ENGAGEMENT, candidates, PSA)
    findings = []
    for row in (Engagement.objects.filter(pk__in=candidates - set(with_project), merged_into__isnull=True)
                .values("pk", "golden_id", "name", "status", "budget_amount", "currency")):
        booking = booked.get(row["pk"])
        won_on = booking["won_on"] if booking else crm_won[row["pk"]]
        if not bx.closed_won_without_psa_project(won_on=won_on, status=row["status"], has_psa_project=False,
                                                 today=today, grace_days=rule.grace_days):
            continue
        amount, currency = (booking["amount"], booking["currency"]) if booking else (row["budget_amount"],
                                                                                    row["currency"])
        findings.append(Finding(
            subject_id=row["pk"], domain=EntityType.ENGAGEMENT, subjects=(Subject(row["pk"], row["golden_id"]),),
            title=f"Closed won on {won_on}, no project in the PSA: {_engagement_name(row)}",
            amount=amount, currency=currency, since=won_on,
            details={"won_on": won_on.isoformat(), "won_by": "booking" if booking else "crm"},
        ))
    return findings


def project_awaiting_erp_activation(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """A project the PSA runs whose status says work started, with no ERP copy, from its start date (or, with
    no start date, from when the hub first saw the PSA's project)."""
    statuses = rule.params.get("statuses", list(bx.STARTED_STATUSES))
    engagements = Engagement.objects.filter(status__in=statuses, merged_into__isnull=True)
    psa = _active_copies(EntityType.ENGAGEMENT, engagements.values("pk"), PSA)
    erp = _active_copies(EntityType.ENGAGEMENT, engagements.values("pk"), ERP)
    findings = []
    for row in engagements.filter(pk__in=set(psa) - set(erp)).values(
            "pk", "golden_id", "name", "status", "start_date", "budget_amount", "currency"):
        since = row["start_date"] or min(_day(c["first_seen_at"]) for c in psa[row["pk"]])
        if not bx.project_awaiting_erp_activation(status=row["status"], starts_on=since, has_psa_project=True,
                                                  has_erp_project=False, today=today, grace_days=rule.grace_days,
                                                  statuses=statuses):
            continue
        findings.append(Finding(
            subject_id=row["pk"], domain=EntityType.ENGAGEMENT, subjects=(Subject(row["pk"], row["golden_id"]),),
            title=f"Project awaiting ERP activation since {since}: {_engagement_name(row)}",
            amount=row["budget_amount"], currency=row["currency"], since=since, details={"status": row["status"]},
        ))
    return findings


def milestone_completed_not_invoiced(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """Invoiced: an invoice_issued revenue event names the milestone, or the PSA marked it invoiced."""
    invoices = RevenueEvent.objects.filter(kind=RevenueEventKind.INVOICE_ISSUED, milestone=OuterRef("pk"))
    rows = (Milestone.objects.filter(merged_into__isnull=True, completed_date__isnull=False, amount__gt=0)
            .exclude(status=MilestoneStatus.INVOICED).annotate(invoiced=Exists(invoices))
            .values("pk", "golden_id", "name", "status", "completed_date", "amount", "currency", "invoiced",
                    "engagement_id", "engagement__golden_id", "engagement__name"))
    findings = []
    for row in rows:
        if not bx.milestone_completed_not_invoiced(completed_on=row["completed_date"], amount=row["amount"],
                                                   status=row["status"], invoiced=row["invoiced"], today=today,
                                                   grace_days=rule.grace_days):
            continue
        findings.append(Finding(
            subject_id=row["pk"], domain=EntityType.MILESTONE,
            subjects=(Subject(row["pk"], row["golden_id"]), Subject(row["engagement_id"],
                                                                    row["engagement__golden_id"])),
            title=f"Milestone completed on {row['completed_date']}, not invoiced: {row['golden_id']} {row['name']} "
                  f"({row['engagement__golden_id']})",
            amount=row["amount"], currency=row["currency"], since=row["completed_date"],
            details={"engagement": row["engagement__golden_id"], "completed_on": row["completed_date"].isoformat()},
        ))
    return findings


def approved_time_not_billed(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """Per engagement (of the billable types in params, time and materials by default) and currency: approved
    time older than the grace period, less everything invoiced for the engagement so far."""
    types = rule.params.get("engagement_types", ["time_and_materials"])
    tolerance = Decimal(str(rule.params.get("tolerance", "0.01")))
    approvals: dict[tuple[Any, str], list[tuple[date, Decimal]]] = defaultdict(list)
    for engagement_id, day, amount, currency in (
            RevenueEvent.objects.filter(kind=RevenueEventKind.TIME_EXPENSE_APPROVED,
                                        engagement__engagement_type__in=types, engagement__merged_into__isnull=True)
            .values_list("engagement_id", "occurred_on", "amount", "currency")):
        approvals[engagement_id, currency].append((day, amount))
    engagement_ids = {engagement_id for engagement_id, _ in approvals}
    invoiced = {(row["engagement_id"], row["currency"]): row["total"] for row in (
        RevenueEvent.objects.filter(kind=RevenueEventKind.INVOICE_ISSUED, engagement_id__in=engagement_ids)
        .values("engagement_id", "currency").annotate(total=Sum("amount")))}
    engagements = {row["pk"]: row for row in Engagement.objects.filter(pk__in=engagement_ids)
                   .values("pk", "golden_id", "name")}
    findings = []
    for (engagement_id, currency), approved in sorted(approvals.items(), key=lambda item: str(item[0])):
        unbilled = bx.approved_time_not_billed(approvals=approved, invoiced=invoiced.get((engagement_id, currency),
                                                                                          ZERO),
                                               today=today, grace_days=rule.grace_days, tolerance=tolerance)
        if unbilled is None:
            continue
        row = engagements[engagement_id]
        findings.append(Finding(
            subject_id=engagement_id, domain=EntityType.ENGAGEMENT, subjects=(Subject(row["pk"], row["golden_id"]),),
            title=f"Approved time not billed since {unbilled.since}: {_engagement_name(row)}",
            amount=unbilled.amount, currency=currency, since=unbilled.since,
            details={"approved": str(sum((a for _, a in approved), ZERO)),
                     "invoiced": str(invoiced.get((engagement_id, currency), ZERO))},
        ))
    return findings


def forecast_not_delivered_to_fpa(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """The latest forecast revision of each engagement (of the last ``lookback_days``) is in an FP&A system if it
    came from one (its source system, or a copy the hub holds from one) or was delivered to one."""
    cutoff = today - timedelta(days=int(rule.params.get("lookback_days", 120)))
    latest: dict[Any, dict[str, Any]] = {}
    for row in (RevenueEvent.objects.filter(kind=RevenueEventKind.FORECAST_REVISED, occurred_on__gte=cutoff)
                .order_by("occurred_on", "created_at", "golden_id")
                .values("pk", "golden_id", "occurred_on", "amount", "currency", "source_system__kind", "client_id",
                        "client__golden_id", "engagement_id", "engagement__golden_id", "engagement__name")):
        latest[row["engagement_id"] or row["client_id"]] = row
    ids = [row["pk"] for row in latest.values()]
    copied = set(_active_copies(EntityType.REVENUE_EVENT, ids, FPA))
    delivered = set(Delivery.objects.filter(record_id__in=ids, status=DeliveryStatus.DELIVERED,
                                            subscription__system__kind__in=FPA).values_list("record_id", flat=True))
    findings = []
    for subject_id, row in latest.items():
        in_fpa = row["source_system__kind"] in FPA or row["pk"] in copied or row["pk"] in delivered
        if not bx.forecast_not_delivered_to_fpa(revised_on=row["occurred_on"], in_fpa=in_fpa, today=today,
                                                grace_days=rule.grace_days):
            continue
        owner = (Subject(row["engagement_id"], row["engagement__golden_id"]) if row["engagement_id"]
                 else Subject(row["client_id"], row["client__golden_id"]))
        findings.append(Finding(
            subject_id=subject_id, domain=EntityType.REVENUE_EVENT,
            subjects=(Subject(row["pk"], row["golden_id"]), owner),
            title=f"Forecast revision of {row['occurred_on']} not delivered to FP&A: {row['golden_id']} "
                  f"({owner.golden_id})",
            amount=row["amount"], currency=row["currency"], since=row["occurred_on"],
            details={"forecast": row["golden_id"], "revised_on": row["occurred_on"].isoformat(),
                     "source_system": row["source_system__kind"] or ""},
        ))
    return findings


def client_attributes_disagree(rule: BusinessExceptionRule, today: date) -> list[Finding]:
    """Clients whose platforms hold key attributes differently (params: ``attributes``, ``name_similarity``). The
    disagreement dates from the latest change of the copies involved; the money at stake is the budget of the
    client's active and on-hold engagements, in the client's currency."""
    attributes = rule.params.get("attributes", list(bx.DEFAULT_CLIENT_ATTRIBUTES))
    similarity = float(rule.params.get("name_similarity", bx.DEFAULT_NAME_SIMILARITY))
    copies: dict[Any, list[bx.Copy]] = defaultdict(list)
    for row in (SourceRecord.objects.filter(entity_type=EntityType.CLIENT, is_deleted=False,
                                            golden_record_id__isnull=False)
                .order_by("system__key", "external_id")
                .values("golden_record_id", "system__key", "external_id", "attributes", "source_modified_at",
                        "last_changed_at")):
        held = copies[row["golden_record_id"]]
        label = row["system__key"]
        if any(c.system == label for c in held):
            label = f"{label} {row['external_id']}"
        held.append(bx.Copy(label, row["attributes"], _day(row["source_modified_at"] or row["last_changed_at"])))
    several = [pk for pk, held in copies.items() if len(held) > 1]
    stake: dict[tuple[Any, str], Decimal] = {
        (row["client_id"], row["currency"]): row["total"] or ZERO for row in
        Engagement.objects.filter(client_id__in=several, merged_into__isnull=True,
                                  status__in=[EngagementStatus.ACTIVE, EngagementStatus.ON_HOLD])
        .values("client_id", "currency").annotate(total=Sum("budget_amount"))}
    findings = []
    for row in (Client.objects.filter(pk__in=several, merged_into__isnull=True).order_by("golden_id")
                .values("pk", "golden_id", "legal_name", "display_name", "currency")):
        held = copies[row["pk"]]
        found = bx.client_attributes_disagree(copies=held, attributes=attributes, name_similarity=similarity)
        if not found:
            continue
        involved = {system for d in found for system in d.values}
        since = max(c.changed_on for c in held if c.system in involved and c.changed_on)
        if not bx.overdue(since, today=today, grace_days=rule.grace_days):
            continue
        names = ", ".join(d.attribute for d in found)
        findings.append(Finding(
            subject_id=row["pk"], domain=EntityType.CLIENT, subjects=(Subject(row["pk"], row["golden_id"]),),
            title=f"Client attributes disagree across platforms ({names}): {row['golden_id']} "
                  f"{row['display_name'] or row['legal_name']}",
            amount=stake.get((row["pk"], row["currency"]), ZERO), currency=row["currency"], since=since,
            details={"attributes": {d.attribute: d.values for d in found}},
        ))
    return findings


LOADERS: dict[str, Loader] = {
    bx.CLOSED_WON_WITHOUT_PSA_PROJECT: closed_won_without_psa_project,
    bx.PROJECT_AWAITING_ERP_ACTIVATION: project_awaiting_erp_activation,
    bx.MILESTONE_COMPLETED_NOT_INVOICED: milestone_completed_not_invoiced,
    bx.APPROVED_TIME_NOT_BILLED: approved_time_not_billed,
    bx.FORECAST_NOT_DELIVERED_TO_FPA: forecast_not_delivered_to_fpa,
    bx.CLIENT_ATTRIBUTES_DISAGREE: client_attributes_disagree,
}


# --- running the rules ----------------------------------------------------------------------------------------------

def _raise(rule: BusinessExceptionRule, finding: Finding) -> bool:
    _, opened = steward_task_raise(
        kind=TaskKind.BUSINESS_EXCEPTION, cause_key=cause_key(rule.code, finding.subject_id), title=finding.title,
        domain=finding.domain, subjects=finding.subjects, priority=rule.priority, amount=finding.amount,
        currency=finding.currency,
        details={"rule": rule.code, "rule_name": rule.name, "since": finding.since.isoformat(),
                 "grace_days": rule.grace_days, **finding.details},
    )
    return opened


def business_exception_rule_run(*, rule: BusinessExceptionRule, today: date | None = None) -> dict[str, int]:
    """Run one rule: a task per finding, and resolve its tasks whose condition has cleared."""
    today = today or timezone.localdate()
    prefix = cause_key(rule.code, "")
    if not rule.enabled:
        resolved = steward_tasks_settle(kind=TaskKind.BUSINESS_EXCEPTION, present=(), prefix=prefix,
                                        note=f"rule {rule.code} is disabled")
        return {"findings": 0, "opened": 0, "resolved": resolved}
    loader = LOADERS.get(rule.kind)
    if loader is None:
        logger.warning("business-exception rule has an unknown kind", extra={"rule": rule.code, "kind": rule.kind})
        return {"findings": 0, "opened": 0, "resolved": 0}
    with transaction.atomic():
        findings = loader(rule, today)
        opened = sum(_raise(rule, finding) for finding in findings)
        present = {cause_key(rule.code, f.subject_id) for f in findings}
        resolved = steward_tasks_settle(kind=TaskKind.BUSINESS_EXCEPTION, present=present, prefix=prefix,
                                        note="the condition cleared")
        # An operational timestamp, not a change to the rule: no history row per run.
        BusinessExceptionRule.objects.filter(pk=rule.pk).update(last_run_at=timezone.now())
    return {"findings": len(findings), "opened": opened, "resolved": resolved}


def business_exceptions_check(*, today: date | None = None, codes: Collection[str] | None = None,
                              ) -> dict[str, dict[str, int]]:
    """Run every rule (or those in ``codes``) as of ``today``; also resolve the tasks of removed rules."""
    today = today or timezone.localdate()
    rules = BusinessExceptionRule.objects.all()
    if codes is not None:
        rules = rules.filter(code__in=codes)
    results = {rule.code: business_exception_rule_run(rule=rule, today=today) for rule in rules}
    if codes is None:
        existing = set(BusinessExceptionRule.objects.values_list("code", flat=True))
        for key in list(StewardTask.objects.filter(kind=TaskKind.BUSINESS_EXCEPTION, status__in=ACTIVE_STATUSES,
                                                   cause_key__startswith=PREFIX).values_list("cause_key", flat=True)):
            code = key[len(PREFIX):].partition(":")[0]
            if code not in existing:
                steward_task_cause_gone(kind=TaskKind.BUSINESS_EXCEPTION, cause_key=key,
                                        note=f"rule {code} no longer exists")
    return results
