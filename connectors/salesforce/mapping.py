"""Salesforce payloads <-> canonical attributes. Plain functions: no ORM, no HTTP.

Inbound functions reproduce the demo generator's Salesforce attributes for the same payloads. References
to other records are ``{"object_type": "Account", "external_id": "<Salesforce Id>"}``. Outbound functions
write only the keys present in the attributes, so a partial golden record never blanks a field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

#: Salesforce object -> canonical entity type.
OBJECTS = {"Account": "client", "Opportunity": "engagement", "Contract": "contract"}

#: The fields the connector selects for each object (SOQL needs explicit fields).
FIELDS = {
    "Account": ("Id", "Name", "Legal_Name__c", "Type", "ParentId", "Industry", "Website", "BillingStreet",
                "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "BillingCountryCode",
                "CurrencyIsoCode", "VAT_Number__c", "Hub_Id__c", "IsDeleted", "CreatedDate", "SystemModstamp"),
    "Opportunity": ("Id", "AccountId", "Name", "StageName", "IsWon", "IsClosed", "CloseDate", "Amount",
                    "Probability", "CurrencyIsoCode", "Type", "Practice__c", "Engagement_Type__c",
                    "Project_Start_Date__c", "Project_End_Date__c", "Hub_Id__c", "IsDeleted", "CreatedDate",
                    "SystemModstamp"),
    "Contract": ("Id", "AccountId", "ContractNumber", "Name", "Contract_Reference__c", "Contract_Type__c",
                 "Status", "StartDate", "EndDate", "ContractTerm", "CustomerSignedDate", "Contract_Value__c",
                 "CurrencyIsoCode", "Billing_Terms__c", "Parent_Contract__c", "Opportunity__c", "Hub_Id__c",
                 "IsDeleted", "SystemModstamp"),
}

ACCOUNT_STATUS = {"Customer": "active", "Former Customer": "inactive", "Prospect": "prospect"}
ENGAGEMENT_TYPE = {"Time & Materials": "time_and_materials", "Fixed Fee": "fixed_fee", "Retainer": "retainer"}
CONTRACT_KIND = {"MSA": "msa", "SOW": "sow", "Change Order": "change_order"}
CONTRACT_STATUS = {"Draft": "draft", "Activated": "active", "Expired": "expired", "Terminated": "terminated"}
WEBSITE_PREFIXES = ("https://", "http://", "www.")


def _invert(mapping: Mapping[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


def ref(object_type: str, record_id: str | None) -> dict[str, str] | None:
    return {"object_type": object_type, "external_id": record_id} if record_id else None


def ref_id(value: Any) -> str | None:
    """The Salesforce Id a canonical reference points at (None for no reference)."""
    if isinstance(value, Mapping):
        return value.get("external_id")
    return value or None


def money(value: Any) -> str | None:
    """A JSON number as canonical money: a string with two decimals."""
    return None if value is None else f"{Decimal(str(value)):.2f}"


def amount(value: Any) -> float | None:
    """Canonical money as Salesforce's JSON number."""
    return None if value in (None, "") else float(Decimal(str(value)))


def domain(website: str | None) -> str | None:
    """``https://www.acme.com/`` -> ``acme.com``."""
    if not website:
        return None
    text = website.strip()
    for prefix in WEBSITE_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return text.split("/")[0].lower() or None


# -- inbound ----------------------------------------------------------------------------------------------------
def account_to_client(payload: Mapping[str, Any]) -> dict[str, Any]:
    attrs = {
        "legal_name": payload.get("Legal_Name__c"), "display_name": payload.get("Name"),
        "parent": ref("Account", payload.get("ParentId")), "website_domain": domain(payload.get("Website")),
        "country": payload.get("BillingCountryCode"), "billing_street": payload.get("BillingStreet"),
        "billing_city": payload.get("BillingCity"), "billing_region": payload.get("BillingState") or "",
        "billing_postcode": payload.get("BillingPostalCode"), "billing_country": payload.get("BillingCountryCode"),
        "industry": payload.get("Industry"), "currency": payload.get("CurrencyIsoCode"),
        "status": ACCOUNT_STATUS.get(payload.get("Type") or "", "active"),
    }
    if payload.get("VAT_Number__c"):
        attrs["tax_id"] = payload["VAT_Number__c"]
    return attrs


def opportunity_to_engagement(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "client": ref("Account", payload.get("AccountId")), "name": payload.get("Name"),
        "engagement_type": ENGAGEMENT_TYPE.get(payload.get("Engagement_Type__c") or ""),
        "status": "active" if payload.get("IsWon") else "pipeline",
        "start_date": payload.get("Project_Start_Date__c"), "end_date": payload.get("Project_End_Date__c"),
        "budget_amount": money(payload.get("Amount")), "currency": payload.get("CurrencyIsoCode"),
        "practice": payload.get("Practice__c"),
    }


def contract_to_contract(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": CONTRACT_KIND.get(payload.get("Contract_Type__c") or ""),
        "number": payload.get("Contract_Reference__c"), "title": payload.get("Name"),
        "value_amount": money(payload.get("Contract_Value__c")), "currency": payload.get("CurrencyIsoCode"),
        "start_date": payload.get("StartDate"), "end_date": payload.get("EndDate"),
        "billing_terms": payload.get("Billing_Terms__c"),
        "status": CONTRACT_STATUS.get(payload.get("Status") or ""),
        "client": ref("Account", payload.get("AccountId")), "signed_date": payload.get("CustomerSignedDate"),
        "engagement": ref("Opportunity", payload.get("Opportunity__c")),
        "parent": ref("Contract", payload.get("Parent_Contract__c")),
    }


INBOUND: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "Account": account_to_client, "Opportunity": opportunity_to_engagement, "Contract": contract_to_contract,
}


def to_canonical(object_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return INBOUND[object_type](payload)


# -- outbound ---------------------------------------------------------------------------------------------------
def _pick(attrs: Mapping[str, Any], rules: Mapping[str, tuple[str, Callable[[Any], Any]]]) -> dict[str, Any]:
    """``rules``: canonical name -> (Salesforce field, converter); only names present in ``attrs``."""
    return {field: convert(attrs[name]) for name, (field, convert) in rules.items() if name in attrs}


def _same(value: Any) -> Any:
    return value


def _months(start: str, end: str) -> int:
    """Salesforce's ContractTerm: whole months from the start's month to the end's month, inclusive."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def client_to_account(attrs: Mapping[str, Any]) -> dict[str, Any]:
    fields = _pick(attrs, {
        "display_name": ("Name", _same), "legal_name": ("Legal_Name__c", _same), "parent": ("ParentId", ref_id),
        "website_domain": ("Website", lambda d: f"https://www.{d}" if d else None),
        "industry": ("Industry", _same), "billing_street": ("BillingStreet", _same),
        "billing_city": ("BillingCity", _same), "billing_region": ("BillingState", lambda r: r or None),
        "billing_postcode": ("BillingPostalCode", _same), "currency": ("CurrencyIsoCode", _same),
        "status": ("Type", lambda s: _invert(ACCOUNT_STATUS).get(s, "Customer")), "tax_id": ("VAT_Number__c", _same),
    })
    country = attrs.get("billing_country") or attrs.get("country")
    if country:
        fields["BillingCountryCode"] = country
    if not fields.get("Name") and attrs.get("legal_name"):
        # Name is required in Salesforce; a client known only by its legal name goes by that.
        fields["Name"] = attrs["legal_name"]
    return fields


def engagement_to_opportunity(attrs: Mapping[str, Any]) -> dict[str, Any]:
    fields = _pick(attrs, {
        "client": ("AccountId", ref_id), "name": ("Name", _same),
        "engagement_type": ("Engagement_Type__c", lambda t: _invert(ENGAGEMENT_TYPE).get(t)),
        "status": ("StageName", lambda s: "Closed Won" if s in ("active", "on_hold", "completed") else
                   "Closed Lost" if s == "cancelled" else "Qualification"),
        "start_date": ("Project_Start_Date__c", _same), "end_date": ("Project_End_Date__c", _same),
        "budget_amount": ("Amount", amount), "currency": ("CurrencyIsoCode", _same),
        "practice": ("Practice__c", _same),
    })
    if attrs.get("start_date"):
        # CloseDate is required; the hub has no close date, so it books the deal at the project start.
        fields["CloseDate"] = attrs["start_date"]
    return fields


def contract_to_salesforce(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """EndDate is computed by Salesforce from StartDate + ContractTerm (months), so the term is sent instead."""
    fields = _pick(attrs, {
        "client": ("AccountId", ref_id), "title": ("Name", _same), "number": ("Contract_Reference__c", _same),
        "kind": ("Contract_Type__c", lambda k: _invert(CONTRACT_KIND).get(k)),
        "status": ("Status", lambda s: _invert(CONTRACT_STATUS).get(s)), "start_date": ("StartDate", _same),
        "signed_date": ("CustomerSignedDate", _same), "value_amount": ("Contract_Value__c", amount),
        "currency": ("CurrencyIsoCode", _same), "billing_terms": ("Billing_Terms__c", _same),
        "parent": ("Parent_Contract__c", ref_id), "engagement": ("Opportunity__c", ref_id),
    })
    if attrs.get("start_date") and attrs.get("end_date"):
        fields["ContractTerm"] = _months(attrs["start_date"], attrs["end_date"])
    return fields


OUTBOUND: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "Account": client_to_account, "Opportunity": engagement_to_opportunity, "Contract": contract_to_salesforce,
}


def to_salesforce(object_type: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    return OUTBOUND[object_type](attrs)
