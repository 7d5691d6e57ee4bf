"""Demo engagements and their milestones.

An engagement is a Salesforce ``Opportunity`` and a Certinia ``pse__Proj__c``; once work has started it
is also a NetSuite ``job``. A milestone is a Certinia ``pse__Milestone__c`` and a NetSuite ``projectTask``
(or, before there is an ERP project, a Salesforce ``OpportunityLineItem``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from canonical.demo.clients import ClientPlan
from canonical.demo.platforms import PlatformIds, iso, moment, money, ns_time, num, ref, sf_attributes, sf_time
from canonical.demo.records import TODAY, GoldenSpec, SourceCopy
from canonical.demo.schedule import allocate, cents, random_day, round_budget, working_day
from canonical.demo.vocabulary import CRM_PRACTICE, FIRST_NAMES, LAST_NAMES, MILESTONES, PRACTICES

STATUS_WEIGHTS = {"active": 45, "completed": 30, "pipeline": 12, "on_hold": 6, "cancelled": 7}
TYPE_WEIGHTS = {"time_and_materials": 40, "fixed_fee": 40, "retainer": 20}
EARLIEST_START = date(2025, 11, 17)
LATEST_END = date(2027, 6, 30)
# Statuses of an engagement whose work has started, so the ERP has a project for it.
STARTED = ("active", "on_hold", "completed")

PSA_STAGE = {"pipeline": "Planned", "active": "In Progress", "on_hold": "On Hold", "completed": "Completed",
             "cancelled": "Canceled"}
PSA_BILLING = {"time_and_materials": "Time and Materials", "fixed_fee": "Fixed Price", "retainer": "Retainer"}
CRM_TYPE = {"time_and_materials": "Time & Materials", "fixed_fee": "Fixed Fee", "retainer": "Retainer"}
ERP_BILLING = {"time_and_materials": "Time and Materials", "fixed_fee": "Fixed Bid, Milestone",
               "retainer": "Charge-Based"}
ERP_STATUS = {"active": "In Progress", "on_hold": "On Hold", "completed": "Closed"}
PSA_MILESTONE = {"planned": "Planned", "in_progress": "In Progress", "completed": "Approved", "invoiced": "Approved"}
ERP_TASK = {"planned": ("NOTSTART", "Not Started"), "in_progress": ("PROGRESS", "In Progress"),
            "completed": ("COMPLETE", "Completed"), "invoiced": ("COMPLETE", "Completed")}
REGION = {"GB": "UK & Ireland", "IE": "UK & Ireland", "US": "North America", "DE": "Continental Europe",
          "FR": "Continental Europe", "NL": "Continental Europe", "AU": "Asia Pacific", "SG": "Asia Pacific"}


@dataclass(frozen=True)
class Person:
    name: str
    contact_id: str  # the resource's Contact in the PSA


@dataclass(frozen=True)
class MilestonePlan:
    key: str
    name: str
    sequence: int
    due: date
    completed_on: date | None
    invoiced_on: date | None
    amount: Decimal | None
    status: str
    certinia_id: str
    second_id: str  # NetSuite projectTask id, or Salesforce OpportunityLineItem id before the ERP has a job


@dataclass(frozen=True)
class ChangeOrderPlan:
    amount: Decimal
    signed_on: date


@dataclass(frozen=True)
class EngagementPlan:
    code: str
    client: ClientPlan
    name: str
    engagement_type: str
    status: str
    start: date
    end: date
    budget: Decimal
    practice: str
    owner: Person
    created_on: date  # when the opportunity was opened
    signed_on: date | None  # closed-won and SOW signed
    hold_on: date | None
    probability: int
    hourly_rate: Decimal
    change_order: ChangeOrderPlan | None
    milestones: tuple[MilestonePlan, ...]
    salesforce_id: str
    certinia_id: str
    netsuite_id: str | None

    @property
    def currency(self) -> str:
        return self.client.currency

    @property
    def work_stops(self) -> date | None:
        """The last day work (time, recognition, milestones) can happen as of today."""
        if self.status not in STARTED:
            return None
        return min(self.hold_on or TODAY, self.end, TODAY)


def _dates(rng: random.Random, status: str) -> tuple[date, date]:
    if status == "completed":
        start = random_day(rng, EARLIEST_START, date(2026, 6, 30))
        end = random_day(rng, start + timedelta(days=60), min(start + timedelta(days=300), date(2026, 10, 20)))
    elif status in ("active", "on_hold"):
        start = random_day(rng, EARLIEST_START, date(2026, 10, 1))
        low = max(start + timedelta(days=90), date(2026, 11, 30))
        end = random_day(rng, low, max(low, min(start + timedelta(days=540), LATEST_END)))
    elif status == "pipeline":
        start = random_day(rng, date(2026, 11, 16), date(2027, 3, 1))
        end = random_day(rng, start + timedelta(days=60), LATEST_END)
    else:
        start = random_day(rng, date(2026, 1, 12), date(2026, 12, 1))
        end = random_day(rng, start + timedelta(days=90), min(start + timedelta(days=270), LATEST_END))
    start = working_day(start)
    return start, max(end, start + timedelta(days=30))


def _budget(rng: random.Random, engagement_type: str, start: date, end: date) -> Decimal:
    if engagement_type == "retainer":
        months = max(1, round((end - start).days / 30.4))
        return round_budget(rng.uniform(8_000, 60_000)) * months
    return round_budget(math.exp(rng.uniform(math.log(25_000), math.log(1_800_000))))


def _milestones(rng: random.Random, ids: PlatformIds, code: str, engagement_type: str, status: str,
                start: date, end: date, budget: Decimal, stops: date | None, has_job: bool) -> list[MilestonePlan]:
    names = MILESTONES[engagement_type]
    count = rng.randint(3, 5) if engagement_type == "fixed_fee" else rng.randint(1, 3)
    picked = sorted(rng.sample(range(len(names)), count))
    amounts = (allocate(budget, [rng.uniform(0.6, 1.4) for _ in picked]) if engagement_type == "fixed_fee"
               else [None] * count)
    plans, open_seen = [], False
    for i, (index, amount) in enumerate(zip(picked, amounts, strict=True)):
        due = end if i == count - 1 else working_day(start + (end - start) * (i + 1) / count)
        done = max(start, due + timedelta(days=rng.randint(-4, 6)))
        completed_on = None
        if stops is not None and (status == "completed" or done <= stops):
            completed_on = min(done, TODAY)
        invoiced_on = None
        if completed_on and amount is not None:
            invoiced_on = working_day(completed_on + timedelta(days=rng.randint(0, 4)))
            invoiced_on = invoiced_on if invoiced_on <= TODAY else None
        if completed_on:
            state = "invoiced" if invoiced_on else "completed"
        elif status in ("active", "on_hold") and not open_seen:
            state, open_seen = "in_progress", True
        else:
            state = "planned"
        plans.append(MilestonePlan(
            key=f"{code}-M{i + 1}", name=names[index], sequence=i + 1, due=due, completed_on=completed_on,
            invoiced_on=invoiced_on, amount=amount, status=state,
            certinia_id=ids.salesforce("certinia", "pse__Milestone__c"),
            second_id=ids.netsuite("projectTask") if has_job else ids.salesforce("salesforce", "OpportunityLineItem"),
        ))
    return plans


def plan_engagements(rng: random.Random, ids: PlatformIds, clients: list[ClientPlan]) -> list[EngagementPlan]:
    """Two engagements per client on average, every client at least one."""
    firsts, lasts = rng.sample(FIRST_NAMES, 16), rng.sample(LAST_NAMES, 16)
    people = [Person(f"{first} {last}", ids.salesforce("certinia", "Contact"))
              for first, last in zip(firsts, lasts, strict=True)]
    per_client = [1] * len(clients)
    for _ in range(len(clients)):
        per_client[rng.randrange(len(clients))] += 1
    code_base = rng.randint(10100, 10900)
    plans: list[EngagementPlan] = []
    for client, count in zip(clients, per_client, strict=True):
        used_names: list[str] = []
        for _ in range(count):
            code = f"PRJ-{code_base + len(plans)}"
            status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
            engagement_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
            practice = rng.choice(list(PRACTICES))
            name = rng.choice(PRACTICES[practice])
            name = f"{name} Phase {used_names.count(name) + 1}" if name in used_names else name
            used_names.append(name.split(" Phase ")[0])
            start, end = _dates(rng, status)
            budget = _budget(rng, engagement_type, start, end)
            signed_on = None
            if status != "pipeline":
                signed_on = max(start - timedelta(days=rng.randint(3, 21)), date(2025, 11, 3))
                # A cancelled engagement was signed, then called off before (or soon after) it started.
                signed_on = min(signed_on, TODAY - timedelta(days=rng.randint(10, 90)))
                created_on = signed_on - timedelta(days=rng.randint(20, 120))
            else:
                created_on = random_day(rng, date(2026, 5, 1), date(2026, 10, 20))
            hold_on = random_day(rng, min(start + timedelta(days=30), TODAY - timedelta(days=10)),
                                 TODAY - timedelta(days=10)) if status == "on_hold" else None
            has_job = status in STARTED
            stops = min(hold_on or TODAY, end, TODAY) if has_job else None
            change_order = None
            if has_job and rng.random() < 0.25:
                signed = start + (stops - start) * rng.uniform(0.3, 0.6)
                change_order = ChangeOrderPlan(round_budget(float(budget) * rng.uniform(0.05, 0.25)), signed)
            plans.append(EngagementPlan(
                code=code, client=client, name=name, engagement_type=engagement_type, status=status, start=start,
                end=end, budget=budget, practice=practice, owner=rng.choice(people), created_on=created_on,
                signed_on=signed_on, hold_on=hold_on,
                probability=rng.choice((20, 40, 60, 80)) if status == "pipeline" else 100,
                hourly_rate=cents(rng.choice((110, 125, 140, 160, 185, 210, 240, 275))),
                change_order=change_order,
                milestones=tuple(_milestones(rng, ids, code, engagement_type, status, start, end, budget, stops,
                                             has_job)),
                salesforce_id=ids.salesforce("salesforce", "Opportunity"),
                certinia_id=ids.salesforce("certinia", "pse__Proj__c"),
                netsuite_id=ids.netsuite("job") if has_job else None,
            ))
    return plans


def engagement_record(rng: random.Random, plan: EngagementPlan) -> GoldenSpec:
    client = plan.client
    won = plan.signed_on is not None
    sf_at = moment(rng, plan.signed_on or random_day(rng, plan.created_on, TODAY))
    sf_payload = {
        "attributes": sf_attributes("Opportunity", plan.salesforce_id), "Id": plan.salesforce_id,
        "AccountId": client.salesforce_id, "Name": f"{client.display_name} - {plan.name}",
        "StageName": "Closed Won" if won else rng.choice(("Qualification", "Proposal/Price Quote", "Negotiation")),
        "IsWon": won, "IsClosed": won, "CloseDate": iso(plan.signed_on or plan.start - timedelta(days=14)),
        "Amount": num(plan.budget), "Probability": plan.probability, "CurrencyIsoCode": plan.currency,
        "Type": "Existing Business" if client.customer_since.year < 2025 else "New Business",
        "Practice__c": CRM_PRACTICE.get(plan.practice, plan.practice),
        "Engagement_Type__c": CRM_TYPE[plan.engagement_type], "Project_Start_Date__c": iso(plan.start),
        "Project_End_Date__c": iso(plan.end), "CreatedDate": sf_time(moment(rng, plan.created_on)),
        "SystemModstamp": sf_time(sf_at),
    }
    sf_attrs = {
        "client": ref("Account", client.salesforce_id), "name": sf_payload["Name"],
        "engagement_type": plan.engagement_type, "status": "active" if won else "pipeline",
        "start_date": iso(plan.start), "end_date": iso(plan.end), "budget_amount": money(plan.budget),
        "currency": plan.currency, "practice": sf_payload["Practice__c"],
    }
    booked = plan.budget + (plan.change_order.amount if plan.change_order else 0)
    psa_at = moment(rng, random_day(rng, min(plan.created_on + timedelta(days=30), TODAY), TODAY))
    psa_payload = {
        "attributes": sf_attributes("pse__Proj__c", plan.certinia_id), "Id": plan.certinia_id, "Name": plan.name,
        "pse__Project_ID__c": plan.code, "pse__Account__c": client.certinia_id,
        "pse__Opportunity__c": plan.salesforce_id, "pse__Project_Manager__c": plan.owner.contact_id,
        "pse__Project_Manager__r": {"Name": plan.owner.name}, "pse__Stage__c": PSA_STAGE[plan.status],
        "pse__Project_Status__c": rng.choice(("Green", "Green", "Green", "Amber", "Red")),
        "pse__Is_Active__c": plan.status in ("active", "on_hold"), "pse__Is_Billable__c": True,
        "pse__Billing_Type__c": PSA_BILLING[plan.engagement_type], "pse__Practice__r": {"Name": plan.practice},
        "pse__Region__r": {"Name": REGION[client.country]}, "pse__Start_Date__c": iso(plan.start),
        "pse__End_Date__c": iso(plan.end), "pse__Bookings__c": num(booked),
        "pse__Closed_for_Time_Entry__c": plan.status in ("completed", "cancelled"),
        "CurrencyIsoCode": plan.currency, "SystemModstamp": sf_time(psa_at),
    }
    psa_attrs = {
        "client": ref("Account", client.certinia_id), "code": plan.code, "name": plan.name,
        "engagement_type": plan.engagement_type, "status": plan.status, "start_date": iso(plan.start),
        "end_date": iso(plan.end), "budget_amount": money(booked), "currency": plan.currency,
        "practice": plan.practice, "delivery_owner": plan.owner.name,
    }
    sources = [
        SourceCopy("salesforce", "Opportunity", plan.salesforce_id, sf_attrs, sf_payload, sf_at),
        SourceCopy("certinia", "pse__Proj__c", plan.certinia_id, psa_attrs, psa_payload, psa_at),
    ]
    if plan.netsuite_id:
        ns_at = moment(rng, random_day(rng, plan.start, TODAY))
        ns_payload = {
            "id": plan.netsuite_id, "entityId": plan.code, "companyName": plan.name,
            "parent": {"id": client.netsuite_id, "refName": client.legal_name},
            "entityStatus": {"refName": ERP_STATUS[plan.status]}, "jobType": {"refName": plan.practice},
            "jobBillingType": {"refName": ERP_BILLING[plan.engagement_type]}, "startDate": iso(plan.start),
            "projectedEndDate": iso(plan.end), "projectManager": {"refName": plan.owner.name},
            "currency": {"refName": plan.currency}, "isInactive": plan.status == "completed",
            "lastModifiedDate": ns_time(ns_at),
        }
        ns_attrs = {
            "client": ref("customer", client.netsuite_id), "code": plan.code, "name": plan.name,
            "engagement_type": plan.engagement_type, "status": plan.status, "start_date": iso(plan.start),
            "end_date": iso(plan.end), "currency": plan.currency, "practice": plan.practice,
        }
        sources.append(SourceCopy("netsuite", "job", plan.netsuite_id, ns_attrs, ns_payload, ns_at))
    return GoldenSpec("engagement", plan.code, tuple(sources))


def milestone_record(rng: random.Random, plan: EngagementPlan, milestone: MilestonePlan) -> GoldenSpec:
    touched = milestone.invoiced_on or milestone.completed_on or min(plan.created_on + timedelta(days=40), TODAY)
    psa_at = moment(rng, touched)
    psa_payload = {
        "attributes": sf_attributes("pse__Milestone__c", milestone.certinia_id), "Id": milestone.certinia_id,
        "Name": milestone.name, "pse__Project__c": plan.certinia_id, "pse__Target_Date__c": iso(milestone.due),
        "pse__Actual_Date__c": iso(milestone.completed_on), "pse__Milestone_Amount__c": num(milestone.amount),
        "pse__Status__c": PSA_MILESTONE[milestone.status], "pse__Approved__c": milestone.completed_on is not None,
        "pse__Include_In_Financials__c": milestone.completed_on is not None,
        "pse__Invoiced__c": milestone.status == "invoiced", "CurrencyIsoCode": plan.currency,
        "SystemModstamp": sf_time(psa_at),
    }
    common = {"name": milestone.name, "sequence": milestone.sequence, "due_date": iso(milestone.due)}
    psa_attrs = {
        **common, "engagement": ref("pse__Proj__c", plan.certinia_id), "completed_date": iso(milestone.completed_on),
        "amount": money(milestone.amount), "currency": plan.currency, "status": milestone.status,
    }
    other_at = moment(rng, touched)
    if plan.netsuite_id:
        code, label = ERP_TASK[milestone.status]
        payload = {
            "id": milestone.second_id, "title": milestone.name,
            "company": {"id": plan.netsuite_id, "refName": plan.code},
            "isMilestone": True, "startDate": iso(milestone.due), "endDate": iso(milestone.due),
            "actualEndDate": iso(milestone.completed_on), "status": {"id": code, "refName": label},
            "lastModifiedDate": ns_time(other_at),
        }
        attrs = {**common, "engagement": ref("job", plan.netsuite_id), "completed_date": iso(milestone.completed_on),
                 "status": "completed" if code == "COMPLETE" else milestone.status}
        second = SourceCopy("netsuite", "projectTask", milestone.second_id, attrs, payload, other_at)
    else:
        payload = {
            "attributes": sf_attributes("OpportunityLineItem", milestone.second_id), "Id": milestone.second_id,
            "OpportunityId": plan.salesforce_id, "Description": milestone.name, "ServiceDate": iso(milestone.due),
            "Quantity": 1.0, "UnitPrice": num(milestone.amount) or 0.0, "TotalPrice": num(milestone.amount) or 0.0,
            "SortOrder": milestone.sequence, "Product2": {"Name": "Consulting Services"},
            "CurrencyIsoCode": plan.currency, "SystemModstamp": sf_time(other_at),
        }
        attrs = {**common, "engagement": ref("Opportunity", plan.salesforce_id), "amount": money(milestone.amount),
                 "currency": plan.currency}
        second = SourceCopy("salesforce", "OpportunityLineItem", milestone.second_id, attrs, payload, other_at)
    return GoldenSpec("milestone", milestone.key, (
        SourceCopy("certinia", "pse__Milestone__c", milestone.certinia_id, psa_attrs, psa_payload, psa_at), second,
    ))
