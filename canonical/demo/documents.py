"""The two platform documents behind each demo revenue event, as each platform's API shows them.

booking: Salesforce ``OpportunityHistory`` (stage to Closed Won) + NetSuite ``revenueArrangement``;
change order: Certinia ``pse__Budget__c`` (change request) + NetSuite ``revenueArrangement``;
milestone completed: Certinia ``pse__Milestone__History`` + NetSuite ``systemNote`` on the project task;
time approved: Certinia ``pse__Timecard_Header__c`` + NetSuite ``timeBill``;
invoice: NetSuite ``invoice`` + Certinia ``pse__Billing_Event__c``;
payment: NetSuite ``customerPayment`` + Anaplan ``Cash`` line;
revenue recognised: NetSuite ``journalEntry`` (revenue recognition journal) + Anaplan ``Revenue`` line;
forecast revised: Anaplan ``Forecast`` line + Salesforce ``OpportunityHistory``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from canonical.demo.contracts import ContractPlan
from canonical.demo.engagements import EngagementPlan, MilestonePlan
from canonical.demo.platforms import PlatformIds, iso, moment, money, ns_time, num, sf_attributes, sf_time
from canonical.demo.records import SourceCopy
from canonical.demo.schedule import month_label

Documents = tuple[tuple[SourceCopy, ...], str]


@dataclass(frozen=True)
class InvoiceDoc:
    netsuite_id: str
    number: str


def _attrs(kind: str, amount: Decimal, currency: str, day: date, **extra: str) -> dict:
    return {"kind": kind, "amount": money(amount), "currency": currency, "occurred_on": iso(day), **extra}


def _sf(object_type: str, record_id: str, at: datetime, **fields) -> dict:
    return {"attributes": sf_attributes(object_type, record_id), "Id": record_id, **fields,
            "CreatedDate": sf_time(at), "SystemModstamp": sf_time(at)}


def _anaplan(module: str, line_item: str, version: str, eng: EngagementPlan, period: str, amount: Decimal,
             **dimensions: str) -> tuple[str, dict]:
    coordinates = {"Engagements": eng.code, "Clients": eng.client.entity_number, "Time": period, **dimensions}
    external_id = "|".join((module.split()[0], version, *coordinates.values()))
    payload = {"module": module, "lineItem": line_item, "version": version, "dimensions": coordinates,
               "value": num(amount), "currency": eng.currency}
    return external_id, payload


def _history(ids: PlatformIds, eng: EngagementPlan, at: datetime, stage: str, amount: Decimal, probability: int,
             category: str, attrs: dict) -> SourceCopy:
    record_id = ids.salesforce("salesforce", "OpportunityHistory")
    payload = _sf("OpportunityHistory", record_id, at, OpportunityId=eng.salesforce_id, StageName=stage,
                  Amount=num(amount), Probability=probability, ForecastCategory=category,
                  CloseDate=iso(eng.signed_on or eng.start), CurrencyIsoCode=eng.currency)
    return SourceCopy("salesforce", "OpportunityHistory", record_id, attrs, payload, at)


def _arrangement(
    ids: PlatformIds, eng: EngagementPlan, contract: ContractPlan, at: datetime, attrs: dict
) -> SourceCopy:
    record_id = ids.netsuite("revenueArrangement")
    payload = {
        "id": record_id, "tranId": f"ARR{ids.number('arrangement', 2100, 2600)}", "tranDate": iso(at.date()),
        "entity": {"id": eng.client.netsuite_id, "refName": eng.client.legal_name},
        "createdFrom": {"id": contract.netsuite_id, "refName": contract.netsuite_number},
        "total": num(contract.value), "currency": {"refName": eng.currency}, "lastModifiedDate": ns_time(at),
    }
    return SourceCopy("netsuite", "revenueArrangement", record_id, attrs, payload, at)


def booking(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, sow: ContractPlan) -> Documents:
    at = moment(rng, eng.signed_on)
    attrs = _attrs("booking", eng.budget, eng.currency, eng.signed_on, document=sow.number)
    history = _history(ids, eng, at, "Closed Won", eng.budget, 100, "Closed", attrs)
    return (history, _arrangement(ids, eng, sow, at, attrs)), eng.salesforce_id


def change_order(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, order: ContractPlan) -> Documents:
    at = moment(rng, order.signed_on)
    attrs = _attrs("change_order", order.value, eng.currency, order.signed_on, document=order.number)
    record_id = ids.salesforce("certinia", "pse__Budget__c")
    payload = _sf("pse__Budget__c", record_id, at, Name=order.number, pse__Project__c=eng.certinia_id,
                  pse__Account__c=eng.client.certinia_id, pse__Amount__c=num(order.value),
                  pse__Type__c="Customer Purchase Order Change Request", pse__Status__c="Approved",
                  pse__Approved__c=True, pse__Effective_Date__c=iso(order.signed_on), CurrencyIsoCode=eng.currency)
    budget = SourceCopy("certinia", "pse__Budget__c", record_id, attrs, payload, at)
    return (budget, _arrangement(ids, eng, order, at, attrs)), order.number


def milestone_completed(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, ms: MilestonePlan) -> Documents:
    at = moment(rng, ms.completed_on)
    attrs = _attrs("milestone_completed", ms.amount, eng.currency, ms.completed_on, document=ms.name)
    record_id = ids.salesforce("certinia", "pse__Milestone__History")
    payload = _sf("pse__Milestone__History", record_id, at, ParentId=ms.certinia_id, Field="pse__Status__c",
                  OldValue="In Progress", NewValue="Approved")
    note_id = ids.netsuite("systemNote")
    note = {"id": note_id, "recordid": ms.second_id, "recordtype": "projecttask", "field": "STATUS",
            "oldvalue": "In Progress", "newvalue": "Completed", "date": ns_time(at), "name": eng.owner.name}
    return (
        SourceCopy("certinia", "pse__Milestone__History", record_id, attrs, payload, at),
        SourceCopy("netsuite", "systemNote", note_id, attrs, note, at),
    ), ms.certinia_id


def time_approved(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, day: date, first: date, last: date,
                  hours: Decimal, amount: Decimal) -> Documents:
    at = moment(rng, day)
    name = f"TC-{ids.number('timecard', 40000, 48000):06d}"
    attrs = _attrs("time_expense_approved", amount, eng.currency, day, document=name)
    record_id = ids.salesforce("certinia", "pse__Timecard_Header__c")
    payload = _sf("pse__Timecard_Header__c", record_id, at, Name=name, pse__Project__c=eng.certinia_id,
                  pse__Resource__c=eng.owner.contact_id, pse__Start_Date__c=iso(first), pse__End_Date__c=iso(last),
                  pse__Total_Hours__c=float(hours), pse__Billable__c=True, pse__Bill_Rate__c=num(eng.hourly_rate),
                  pse__Total_Billable_Amount__c=num(amount), pse__Status__c="Approved", pse__Approved__c=True,
                  pse__Include_In_Financials__c=True, CurrencyIsoCode=eng.currency)
    bill_id = ids.netsuite("timeBill")
    whole, fraction = divmod(int(hours * 60), 60)
    bill = {
        "id": bill_id, "employee": {"refName": eng.owner.name},
        "customer": {"id": eng.netsuite_id, "refName": eng.code},
        "hours": f"{whole}:{fraction:02d}", "tranDate": iso(last), "isBillable": True, "rate": num(eng.hourly_rate),
        "approvalStatus": {"id": "3", "refName": "Approved"}, "memo": f"{name} approved time {month_label(first)}",
        "lastModifiedDate": ns_time(at),
    }
    return (
        SourceCopy("certinia", "pse__Timecard_Header__c", record_id, attrs, payload, at),
        SourceCopy("netsuite", "timeBill", bill_id, attrs, bill, at),
    ), name


def invoice(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, contract: ContractPlan, day: date,
            due: date, amount: Decimal, paid_on: date | None) -> tuple[tuple[SourceCopy, ...], InvoiceDoc]:
    at = moment(rng, day)
    paid = paid_on is not None
    # Applying the payment is the invoice's last change in the ERP.
    changed = moment(rng, paid_on) if paid else at
    doc = InvoiceDoc(ids.netsuite("invoice"), f"INV-{ids.number('invoice', 20400, 21000)}")
    attrs = _attrs("invoice_issued", amount, eng.currency, day, document=doc.number)
    ns = {
        "id": doc.netsuite_id, "tranId": doc.number, "tranDate": iso(day), "dueDate": iso(due),
        "entity": {"id": eng.client.netsuite_id, "refName": eng.client.legal_name},
        "job": {"id": eng.netsuite_id, "refName": eng.code}, "otherRefNum": contract.number,
        "status": {"refName": "Paid In Full" if paid else "Open"}, "total": num(amount),
        "amountRemaining": 0.0 if paid else num(amount), "currency": {"refName": eng.currency},
        "terms": {"refName": eng.client.payment_terms}, "lastModifiedDate": ns_time(changed),
    }
    event_id = ids.salesforce("certinia", "pse__Billing_Event__c")
    billing = _sf("pse__Billing_Event__c", event_id, at, Name=f"BE-{ids.number('billing', 7000, 7600):06d}",
                  pse__Project__c=eng.certinia_id, pse__Account__c=eng.client.certinia_id, pse__Date__c=iso(day),
                  pse__Status__c="Invoiced", pse__Approved__c=True, pse__Released__c=True, pse__Invoiced__c=True,
                  pse__Invoice_Number__c=doc.number, pse__Invoice_Date__c=iso(day),
                  pse__Summary_Amount__c=num(amount), CurrencyIsoCode=eng.currency)
    return (
        SourceCopy("netsuite", "invoice", doc.netsuite_id,
                   {**attrs, "client": {"object_type": "customer", "external_id": eng.client.netsuite_id},
                    "engagement": {"object_type": "job", "external_id": eng.netsuite_id}}, ns, changed),
        SourceCopy("certinia", "pse__Billing_Event__c", event_id, attrs, billing, at),
    ), doc


def payment(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, doc: InvoiceDoc, day: date,
            amount: Decimal) -> Documents:
    at = moment(rng, day)
    record_id = ids.netsuite("customerPayment")
    number = f"PYMT{ids.number('payment', 5300, 5900)}"
    attrs = _attrs("payment_received", amount, eng.currency, day, document=number)
    ns = {
        "id": record_id, "tranId": number, "tranDate": iso(day), "payment": num(amount),
        "customer": {"id": eng.client.netsuite_id, "refName": eng.client.legal_name},
        "currency": {"refName": eng.currency}, "lastModifiedDate": ns_time(at),
        "apply": {"items": [{"doc": {"id": doc.netsuite_id, "refName": doc.number}, "apply": True,
                             "amount": num(amount)}]},
    }
    external_id, cash = _anaplan("CASH01 Cash Receipts", "Cash Received", "Actual", eng, month_label(day), amount,
                                 Invoices=doc.number)
    return (
        SourceCopy("netsuite", "customerPayment", record_id, attrs, ns, at),
        SourceCopy("anaplan", "Cash", external_id, attrs, cash, None),
    ), number


def revenue_recognised(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, day: date,
                       amount: Decimal) -> Documents:
    at = moment(rng, day)
    record_id = ids.netsuite("journalEntry")
    number = f"REVREC{ids.number('revrec', 30000, 31000)}"
    attrs = _attrs("revenue_recognised", amount, eng.currency, day, document=number)
    period = f"{month_label(day)[:3]} {day.year}"
    journal = {
        "id": record_id, "tranId": number, "tranDate": iso(day), "postingPeriod": {"refName": period},
        "memo": f"Revenue recognition {eng.code} {period}", "currency": {"refName": eng.currency},
        "isRevRecJournal": True, "lastModifiedDate": ns_time(at),
        "line": {"items": [
            {"account": {"refName": "2450 Deferred Revenue"}, "debit": num(amount), "entity": {"id": eng.netsuite_id}},
            {"account": {"refName": "4000 Consulting Revenue"}, "credit": num(amount),
             "entity": {"id": eng.netsuite_id}},
        ]},
    }
    external_id, line = _anaplan("REV01 Engagement Revenue", "Recognised Revenue", "Actual", eng,
                                 month_label(day), amount)
    return (
        SourceCopy("netsuite", "journalEntry", record_id, attrs, journal, at),
        SourceCopy("anaplan", "Revenue", external_id, attrs, line, None),
    ), number


def forecast_revised(rng: random.Random, ids: PlatformIds, eng: EngagementPlan, day: date, version: str,
                     amount: Decimal, booked: bool, probability: int) -> Documents:
    at = moment(rng, day)
    attrs = _attrs("forecast_revised", amount, eng.currency, day, document=version)
    line_item = "Estimate at Completion" if booked else "Weighted Pipeline"
    external_id, line = _anaplan("FC01 Engagement Forecast", line_item, version, eng, "FY", amount)
    category = "Closed" if booked else ("Commit" if probability >= 80 else "Best Case" if probability >= 50
                                        else "Pipeline")
    stage = "Closed Won" if booked else "Proposal/Price Quote"
    history = _history(ids, eng, at, stage, amount, probability, category, attrs)
    return (SourceCopy("anaplan", "Forecast", external_id, attrs, line, None), history), version
