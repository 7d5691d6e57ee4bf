"""A year of demo revenue events (2025-11-01 .. 2026-10-31), consistent with budgets and contracts.

Each engagement's work is spread over its months. Time and materials bills approved time monthly in
arrears, a retainer bills its fee monthly in advance, fixed fee bills its milestones. Revenue is
recognised monthly; nothing recognised or billed ever exceeds the SOW plus its change order.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from canonical.demo import documents
from canonical.demo.contracts import ContractPlan
from canonical.demo.engagements import EngagementPlan
from canonical.demo.platforms import PlatformIds
from canonical.demo.records import TODAY, WINDOW_START, RevenueEventSpec
from canonical.demo.schedule import CENT, allocate, month_end, month_name, month_start, months_between, working_day

# Quarterly reforecasts: the Friday of the second week of each quarter.
REFORECASTS = ((date(2026, 1, 9), "Forecast 2026-Q1"), (date(2026, 4, 10), "Forecast 2026-Q2"),
               (date(2026, 7, 10), "Forecast 2026-Q3"), (date(2026, 10, 9), "Forecast 2026-Q4"))
TERM_DAYS = {"Net 30": 30, "Net 45": 45}
PRIMARY = {"booking": "salesforce", "change_order": "certinia", "milestone_completed": "certinia",
           "time_expense_approved": "certinia", "invoice_issued": "netsuite", "payment_received": "netsuite",
           "revenue_recognised": "netsuite", "forecast_revised": "anaplan"}


class _Book:
    """Collects one engagement's events and numbers them: ``demo:<kind>:<code>:<YYYY-MM>:<n>``."""

    def __init__(self, eng: EngagementPlan) -> None:
        self.eng = eng
        self.events: list[RevenueEventSpec] = []
        self._seen: Counter[tuple[str, str]] = Counter()

    def add(self, kind: str, amount: Decimal, day: date, docs: documents.Documents, description: str,
            contract: ContractPlan | None = None, milestone: str | None = None) -> None:
        sources, reference = docs
        period = day.strftime("%Y-%m")
        self._seen[kind, period] += 1
        self.events.append(RevenueEventSpec(
            idempotency_key=f"demo:{kind}:{self.eng.code}:{period}:{self._seen[kind, period]}", kind=kind,
            amount=amount, currency=self.eng.currency, occurred_on=day, client=self.eng.client.key,
            engagement=self.eng.code, contract=contract.number if contract else None, milestone=milestone,
            source_system=PRIMARY[kind], source_reference=reference, description=description,
            sources=tuple(sources),
        ))


def _monthly_plan(rng: random.Random, eng: EngagementPlan) -> list[tuple[date, Decimal]]:
    """(month, amount of work) over the engagement's whole life, adding up to what may be billed for it."""
    months = months_between(eng.start, eng.end)
    days = [(min(month_end(m), eng.end) - max(m, eng.start)).days + 1 for m in months]
    if eng.engagement_type == "retainer":
        weights = [1.0] * len(months)
    else:
        weights = [d * rng.uniform(0.75, 1.25) for d in days]
    burn = Decimal(str(round(rng.uniform(0.86, 0.98), 2))) if eng.engagement_type == "time_and_materials" else 1
    amounts = allocate((eng.budget * burn).quantize(CENT), weights)
    change = eng.change_order
    if change:
        later = [i for i, m in enumerate(months) if m >= month_start(change.signed_on)]
        extra = allocate((change.amount * burn).quantize(CENT), [weights[i] for i in later])
        for i, value in zip(later, extra, strict=True):
            amounts[i] += value
    return list(zip(months, amounts, strict=True))


def _pay_day(rng: random.Random, eng: EngagementPlan, invoiced: date) -> date | None:
    """When the client pays an invoice: around its terms, a few paying late, some not yet."""
    paid = working_day(invoiced + timedelta(days=TERM_DAYS[eng.client.payment_terms] + rng.randint(-6, 18)))
    return paid if paid <= TODAY and rng.random() > 0.06 else None


def _bill(rng: random.Random, ids: PlatformIds, book: _Book, contract: ContractPlan, day: date, amount: Decimal,
          what: str, milestone: str | None = None) -> None:
    eng = book.eng
    if day > TODAY:
        return
    paid_on = _pay_day(rng, eng, day)
    due = day + timedelta(days=TERM_DAYS[eng.client.payment_terms])
    sources, doc = documents.invoice(rng, ids, eng, contract, day, due, amount, paid_on)
    book.add("invoice_issued", amount, day, (sources, doc.number), f"Invoice {doc.number}: {what}", contract,
             milestone)
    if paid_on:
        book.add("payment_received", amount, paid_on, documents.payment(rng, ids, eng, doc, paid_on, amount),
                 f"Payment of {doc.number}", contract)


def _work(rng: random.Random, ids: PlatformIds, book: _Book, sow: ContractPlan, order: ContractPlan | None) -> None:
    eng = book.eng
    stops = eng.work_stops
    for month, planned in _monthly_plan(rng, eng):
        if month > stops:
            break
        amount, label = planned, month_name(month)
        last = month_end(month)
        if eng.engagement_type == "time_and_materials":
            # Approved time is whole quarter-hours at the engagement's rate, so it never exceeds the plan.
            hours = (planned / eng.hourly_rate).quantize(Decimal("0.25"), rounding=ROUND_FLOOR)
            amount = hours * eng.hourly_rate
            approved = last - timedelta(days=max(0, last.weekday() - 4))
            docs = documents.time_approved(rng, ids, eng, approved, max(month, eng.start), last, hours, amount)
            book.add("time_expense_approved", amount, approved, docs, f"Approved time {label}: {hours} h", sow)
            invoiced = working_day(last + timedelta(days=rng.randint(3, 6)))
            if invoiced <= TODAY:
                _bill(rng, ids, book, sow, invoiced, amount, f"time and materials {label}")
        elif eng.engagement_type == "retainer":
            _bill(rng, ids, book, sow, working_day(max(month, eng.start)), amount, f"retainer fee {label}")
        book.add("revenue_recognised", amount, last, documents.revenue_recognised(rng, ids, eng, last, amount),
                 f"Revenue recognised {label}", sow)
    for ms in eng.milestones:
        if ms.amount is not None and ms.completed_on is not None:
            book.add("milestone_completed", ms.amount, ms.completed_on,
                     documents.milestone_completed(rng, ids, eng, ms), f"Milestone {ms.sequence}: {ms.name}", sow,
                     ms.key)
            if ms.invoiced_on:
                _bill(rng, ids, book, sow, ms.invoiced_on, ms.amount, f"milestone {ms.sequence} {ms.name}", ms.key)
    if order and eng.engagement_type == "fixed_fee":
        billed = working_day(order.signed_on + timedelta(days=rng.randint(7, 20)))
        if billed <= TODAY:
            _bill(rng, ids, book, order, billed, order.value, f"change order {order.number}")


def _forecasts(rng: random.Random, ids: PlatformIds, book: _Book, order: ContractPlan | None) -> None:
    eng = book.eng
    for day, version in REFORECASTS:
        if eng.status == "cancelled" or eng.created_on > day or eng.end < day - timedelta(days=31):
            continue
        booked = eng.signed_on is not None and eng.signed_on <= day
        if booked:
            total = eng.budget + (order.value if order and order.signed_on <= day else 0)
            variance = rng.uniform(0.92, 1.04) if eng.engagement_type == "time_and_materials" else 1.0
            amount, probability = (total * Decimal(str(round(variance, 3)))).quantize(CENT), 100
        else:
            probability = eng.probability if eng.status == "pipeline" else rng.choice((40, 60, 80))
            amount = (eng.budget * probability / 100).quantize(CENT)
        docs = documents.forecast_revised(rng, ids, eng, day, version, amount, booked, probability)
        what = "estimate at completion" if booked else f"weighted pipeline at {probability}%"
        book.add("forecast_revised", amount, day, docs, f"{version}: {what}")


def revenue_events(rng: random.Random, ids: PlatformIds, engagements: list[EngagementPlan],
                   contracts: list[ContractPlan]) -> list[RevenueEventSpec]:
    sows = {c.engagement.code: c for c in contracts if c.kind == "sow"}
    orders = {c.engagement.code: c for c in contracts if c.kind == "change_order"}
    events: list[RevenueEventSpec] = []
    for eng in engagements:
        book, sow, order = _Book(eng), sows[eng.code], orders.get(eng.code)
        if eng.signed_on:
            book.add("booking", eng.budget, eng.signed_on, documents.booking(rng, ids, eng, sow),
                     f"Closed won: {eng.name}", sow)
        if order:
            book.add("change_order", order.value, order.signed_on, documents.change_order(rng, ids, eng, order),
                     f"{order.number}: {order.title}", order)
        if eng.work_stops is not None:
            _work(rng, ids, book, sow, order)
        _forecasts(rng, ids, book, order)
        events.extend(e for e in book.events if WINDOW_START <= e.occurred_on <= TODAY)
    return sorted(events, key=lambda e: (e.occurred_on, e.idempotency_key))
