"""Demo contracts: an MSA per client, an SOW per engagement under it, change orders under some SOWs.

Each is a Salesforce ``Contract``; in NetSuite an MSA is the custom record ``customrecord_msa`` and an
SOW or change order is the ``salesOrder`` that bills it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from canonical.demo.clients import ClientPlan
from canonical.demo.engagements import EngagementPlan
from canonical.demo.platforms import PlatformIds, iso, moment, money, ns_time, num, ref, sf_attributes, sf_time
from canonical.demo.records import TODAY, GoldenSpec, SourceCopy
from canonical.demo.schedule import add_months, random_day

SOW_TERMS = {"time_and_materials": "Monthly in arrears", "fixed_fee": "Milestone", "retainer": "Monthly in advance"}
SOW_STATUS = {"pipeline": "draft", "active": "active", "on_hold": "active", "completed": "expired",
              "cancelled": "terminated"}
CRM_STATUS = {"draft": "Draft", "active": "Activated", "expired": "Expired", "terminated": "Terminated"}
ERP_ORDER_STATUS = {"draft": "Pending Approval", "active": "Pending Billing", "expired": "Billed",
                    "terminated": "Closed"}
CRM_KIND = {"msa": "MSA", "sow": "SOW", "change_order": "Change Order"}
ERP_KIND = {"sow": "Statement of Work", "change_order": "Change Order"}


@dataclass(frozen=True)
class ContractPlan:
    number: str
    kind: str
    client: ClientPlan
    engagement: EngagementPlan | None
    parent: ContractPlan | None
    title: str
    value: Decimal | None
    start: date
    end: date
    billing_terms: str
    signed_on: date | None
    status: str
    salesforce_id: str
    contract_number: str  # Salesforce's own auto-number
    netsuite_type: str
    netsuite_id: str
    netsuite_number: str

    @property
    def currency(self) -> str:
        return self.client.currency


def plan_contracts(rng: random.Random, ids: PlatformIds, clients: list[ClientPlan],
                   engagements: list[EngagementPlan]) -> list[ContractPlan]:
    """MSAs, then SOWs, then change orders: each listed after its parent."""

    def new(kind: str, **fields) -> ContractPlan:
        netsuite_type = "customrecord_msa" if kind == "msa" else "salesOrder"
        return ContractPlan(
            kind=kind, salesforce_id=ids.salesforce("salesforce", "Contract"),
            contract_number=f"{ids.number('sf-contract', 100, 400):08d}", netsuite_type=netsuite_type,
            netsuite_id=ids.netsuite(netsuite_type),
            netsuite_number=f"SO{ids.number('salesorder', 10200, 10900)}" if kind != "msa" else "", **fields,
        )

    msas: dict[str, ContractPlan] = {}
    for client in clients:
        start = random_day(rng, max(client.customer_since, date(2022, 1, 3)), date(2025, 9, 30))
        msas[client.key] = new(
            "msa", number=f"MSA-{start.year}-{ids.number('msa', 1, 60):04d}", client=client, engagement=None,
            parent=None, title=f"Master Services Agreement - {client.display_name}", value=None, start=start,
            end=add_months(start, 60) - timedelta(days=1), billing_terms=client.payment_terms,
            signed_on=start - timedelta(days=rng.randint(0, 14)), status="active",
        )
    sows, orders = [], []
    for engagement in engagements:
        sow = new(
            "sow", number=f"SOW-{engagement.code}", client=engagement.client, engagement=engagement,
            parent=msas[engagement.client.key], title=f"Statement of Work - {engagement.name}",
            value=engagement.budget, start=engagement.start, end=engagement.end,
            billing_terms=SOW_TERMS[engagement.engagement_type], signed_on=engagement.signed_on,
            status=SOW_STATUS[engagement.status],
        )
        sows.append(sow)
        change = engagement.change_order
        if change:
            orders.append(new(
                "change_order", number=f"CO-{engagement.code}-01", client=engagement.client, engagement=engagement,
                parent=sow, title=f"Change Order 1 - {engagement.name}", value=change.amount,
                start=change.signed_on, end=engagement.end, billing_terms=sow.billing_terms,
                signed_on=change.signed_on, status="expired" if engagement.status == "completed" else "active",
            ))
    return [*msas.values(), *sows, *orders]


def contract_record(rng: random.Random, plan: ContractPlan) -> GoldenSpec:
    client, engagement, parent = plan.client, plan.engagement, plan.parent
    sf_at = moment(rng, min(plan.signed_on or plan.start - timedelta(days=20), TODAY))
    months = (plan.end.year - plan.start.year) * 12 + plan.end.month - plan.start.month + 1
    sf_payload = {
        "attributes": sf_attributes("Contract", plan.salesforce_id), "Id": plan.salesforce_id,
        "AccountId": client.salesforce_id, "ContractNumber": plan.contract_number, "Name": plan.title,
        "Contract_Reference__c": plan.number, "Contract_Type__c": CRM_KIND[plan.kind],
        "Status": CRM_STATUS[plan.status], "StartDate": iso(plan.start), "EndDate": iso(plan.end),
        "ContractTerm": months, "CustomerSignedDate": iso(plan.signed_on), "Contract_Value__c": num(plan.value),
        "CurrencyIsoCode": plan.currency, "Billing_Terms__c": plan.billing_terms,
        "Parent_Contract__c": parent.salesforce_id if parent else None,
        "Opportunity__c": engagement.salesforce_id if engagement else None, "SystemModstamp": sf_time(sf_at),
    }
    common = {
        "kind": plan.kind, "number": plan.number, "title": plan.title, "value_amount": money(plan.value),
        "currency": plan.currency, "start_date": iso(plan.start), "end_date": iso(plan.end),
        "billing_terms": plan.billing_terms, "status": plan.status,
    }
    sf_attrs = {
        **common, "client": ref("Account", client.salesforce_id), "signed_date": iso(plan.signed_on),
        "engagement": ref("Opportunity", engagement.salesforce_id) if engagement else None,
        "parent": ref("Contract", parent.salesforce_id) if parent else None,
    }
    ns_at = moment(rng, random_day(rng, min(plan.signed_on or plan.start, TODAY), TODAY))
    if plan.kind == "msa":
        ns_payload = {
            "id": plan.netsuite_id, "name": plan.number, "altName": plan.title,
            "custrecord_msa_customer": {"id": client.netsuite_id, "refName": client.legal_name},
            "custrecord_msa_start_date": iso(plan.start), "custrecord_msa_end_date": iso(plan.end),
            "custrecord_msa_terms": {"refName": plan.billing_terms}, "custrecord_msa_status": {"refName": "Active"},
            "isInactive": False, "lastModified": ns_time(ns_at),
        }
        ns_attrs = {**common, "client": ref("customer", client.netsuite_id)}
    else:
        ns_payload = {
            "id": plan.netsuite_id, "tranId": plan.netsuite_number, "otherRefNum": plan.number, "memo": plan.title,
            "entity": {"id": client.netsuite_id, "refName": client.legal_name},
            "job": {"id": engagement.netsuite_id, "refName": engagement.code} if engagement.netsuite_id else None,
            "tranDate": iso(plan.signed_on or plan.start - timedelta(days=14)), "startDate": iso(plan.start),
            "endDate": iso(plan.end), "status": {"refName": ERP_ORDER_STATUS[plan.status]},
            "total": num(plan.value), "currency": {"refName": plan.currency},
            "billingSchedule": {"refName": plan.billing_terms}, "terms": {"refName": client.payment_terms},
            "custbody_contract_type": {"refName": ERP_KIND[plan.kind]},
            "custbody_parent_contract": {"id": parent.netsuite_id, "refName": parent.number},
            "item": {"items": [{"item": {"refName": "Professional Services"}, "quantity": 1.0,
                                "amount": num(plan.value)}]},
            "lastModifiedDate": ns_time(ns_at),
        }
        ns_attrs = {
            **common, "client": ref("customer", client.netsuite_id),
            "engagement": ref("job", engagement.netsuite_id) if engagement.netsuite_id else None,
            "parent": ref(parent.netsuite_type, parent.netsuite_id),
        }
    return GoldenSpec("contract", plan.number, (
        SourceCopy("salesforce", "Contract", plan.salesforce_id, sf_attrs, sf_payload, sf_at),
        SourceCopy("netsuite", plan.netsuite_type, plan.netsuite_id, ns_attrs, ns_payload, ns_at),
    ))
