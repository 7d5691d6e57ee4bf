"""NetSuite payloads <-> canonical attributes. Plain functions: no ORM, no HTTP.

Inbound functions take a record as the record service returns it and produce the same attributes the demo
generator gives its NetSuite copies. References become ``{"object_type": <record type>, "external_id":
<internal id>}``. Outbound functions take canonical attributes and build a record-service body; references
are written as ``{"id": <internal id>}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

#: NetSuite record type -> canonical entity type, for the records the connector reads.
OBJECTS = {"customer": "client", "job": "engagement", "salesOrder": "contract", "invoice": "revenue_event"}

# Vocabulary of the firm's NetSuite account (list values by name).
JOB_STATUS = {"In Progress": "active", "On Hold": "on_hold", "Closed": "completed"}
JOB_BILLING = {"Time and Materials": "time_and_materials", "Fixed Bid, Milestone": "fixed_fee",
               "Charge-Based": "retainer"}
ORDER_STATUS = {"Pending Approval": "draft", "Pending Billing": "active", "Billed": "expired", "Closed": "terminated"}
CONTRACT_KIND = {"Statement of Work": "sow", "Change Order": "change_order"}
# A statement of work hangs off an MSA (a custom record); a change order off its statement of work.
PARENT_TYPE = {"sow": "customrecord_msa", "change_order": "salesOrder"}

Attributes = dict[str, Any]


def _invert(mapping: Mapping[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


def _ref(object_type: str, value: Any) -> dict[str, str] | None:
    """A canonical reference from a NetSuite reference object (``{"id": ..., "refName": ...}``)."""
    if isinstance(value, Mapping) and value.get("id"):
        return {"object_type": object_type, "external_id": str(value["id"])}
    return None


def _name(value: Any) -> str | None:
    return value.get("refName") if isinstance(value, Mapping) else None


def _money(value: Any) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"


def _out_ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping) and value.get("external_id"):
        return {"id": str(value["external_id"])}
    return None


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    return url.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.")


def _billing_address(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    items = (payload.get("addressBook") or {}).get("items") or []
    chosen = next((i for i in items if i.get("defaultBilling")), items[0] if items else {})
    return chosen.get("addressBookAddress") or {}


# -- inbound ---------------------------------------------------------------------------------------------------

def customer_to_client(payload: Mapping[str, Any]) -> Attributes:
    address = _billing_address(payload)
    country = (address.get("country") or {}).get("id")
    return {
        "legal_name": payload.get("companyName"), "parent": _ref("customer", payload.get("parent")),
        "website_domain": _domain(payload.get("url")), "tax_id": payload.get("vatRegNumber"), "country": country,
        "billing_street": address.get("addr1"), "billing_city": address.get("city"),
        "billing_region": address.get("state"), "billing_postcode": address.get("zip"), "billing_country": country,
        "currency": _name(payload.get("currency")), "status": "inactive" if payload.get("isInactive") else "active",
    }


def job_to_engagement(payload: Mapping[str, Any]) -> Attributes:
    return {
        "client": _ref("customer", payload.get("parent")), "code": payload.get("entityId"),
        "name": payload.get("companyName"),
        "engagement_type": JOB_BILLING.get(_name(payload.get("jobBillingType")) or ""),
        "status": JOB_STATUS.get(_name(payload.get("entityStatus")) or ""), "start_date": payload.get("startDate"),
        "end_date": payload.get("projectedEndDate"), "currency": _name(payload.get("currency")),
        "practice": _name(payload.get("jobType")),
    }


def sales_order_to_contract(payload: Mapping[str, Any]) -> Attributes:
    kind = CONTRACT_KIND.get(_name(payload.get("custbody_contract_type")) or "")
    return {
        "kind": kind, "number": payload.get("otherRefNum"), "title": payload.get("memo"),
        "value_amount": _money(payload.get("total")), "currency": _name(payload.get("currency")),
        "start_date": payload.get("startDate"), "end_date": payload.get("endDate"),
        "billing_terms": _name(payload.get("billingSchedule")),
        "status": ORDER_STATUS.get(_name(payload.get("status")) or ""),
        "client": _ref("customer", payload.get("entity")), "engagement": _ref("job", payload.get("job")),
        "parent": _ref(PARENT_TYPE.get(kind or "", "salesOrder"), payload.get("custbody_parent_contract")),
    }


def invoice_to_revenue_event(payload: Mapping[str, Any]) -> Attributes:
    """An invoice as the attributes of an ``invoice_issued`` revenue event."""
    return {"kind": "invoice_issued", "amount": _money(payload.get("total")),
            "currency": _name(payload.get("currency")), "occurred_on": payload.get("tranDate"),
            "document": payload.get("tranId"), "client": _ref("customer", payload.get("entity")),
            "engagement": _ref("job", payload.get("job"))}


INBOUND: dict[str, Callable[[Mapping[str, Any]], Attributes]] = {
    "customer": customer_to_client, "job": job_to_engagement, "salesOrder": sales_order_to_contract,
    "invoice": invoice_to_revenue_event,
}


# -- outbound --------------------------------------------------------------------------------------------------

def _present(attrs: Mapping[str, Any], body: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    """Keep only the body fields whose canonical attribute was given (a partial update stays partial)."""
    return {field: value for field, value in body.items() if keys.get(field, field) in attrs}


def client_to_customer(attrs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "companyName": attrs.get("legal_name"), "parent": _out_ref(attrs.get("parent")),
        "url": f"http://{attrs['website_domain']}" if attrs.get("website_domain") else None,
        "vatRegNumber": attrs.get("tax_id"), "currency": {"refName": attrs.get("currency")},
        "isInactive": attrs.get("status", "active") != "active",
    }
    keys = {"companyName": "legal_name", "parent": "parent", "url": "website_domain", "vatRegNumber": "tax_id",
            "currency": "currency", "isInactive": "status"}
    body = _present(attrs, body, keys)
    address_keys = ("billing_street", "billing_city", "billing_region", "billing_postcode", "billing_country")
    if any(k in attrs for k in address_keys):
        address = {"addressee": attrs.get("legal_name"), "addr1": attrs.get("billing_street"),
                   "city": attrs.get("billing_city"), "state": attrs.get("billing_region"),
                   "zip": attrs.get("billing_postcode"), "country": {"id": attrs.get("billing_country")}}
        body["addressBook"] = {"items": [{"defaultBilling": True, "addressBookAddress": address}]}
    return body


def engagement_to_job(attrs: Mapping[str, Any]) -> dict[str, Any]:
    body = {
        "parent": _out_ref(attrs.get("client")), "entityId": attrs.get("code"), "companyName": attrs.get("name"),
        "jobBillingType": {"refName": _invert(JOB_BILLING).get(attrs.get("engagement_type") or "")},
        "entityStatus": {"refName": _invert(JOB_STATUS).get(attrs.get("status") or "")},
        "startDate": attrs.get("start_date"), "projectedEndDate": attrs.get("end_date"),
        "currency": {"refName": attrs.get("currency")}, "jobType": {"refName": attrs.get("practice")},
    }
    keys = {"parent": "client", "entityId": "code", "companyName": "name", "jobBillingType": "engagement_type",
            "entityStatus": "status", "startDate": "start_date", "projectedEndDate": "end_date",
            "currency": "currency", "jobType": "practice"}
    return _present(attrs, body, keys)


def contract_to_sales_order(attrs: Mapping[str, Any]) -> dict[str, Any]:
    value = attrs.get("value_amount")
    body = {
        "custbody_contract_type": {"refName": _invert(CONTRACT_KIND).get(attrs.get("kind") or "")},
        "otherRefNum": attrs.get("number"), "memo": attrs.get("title"),
        "total": None if value is None else float(Decimal(value)), "currency": {"refName": attrs.get("currency")},
        "startDate": attrs.get("start_date"), "endDate": attrs.get("end_date"),
        "billingSchedule": {"refName": attrs.get("billing_terms")},
        "status": {"refName": _invert(ORDER_STATUS).get(attrs.get("status") or "")},
        "entity": _out_ref(attrs.get("client")), "job": _out_ref(attrs.get("engagement")),
        "custbody_parent_contract": _out_ref(attrs.get("parent")),
    }
    keys = {"custbody_contract_type": "kind", "otherRefNum": "number", "memo": "title", "total": "value_amount",
            "billingSchedule": "billing_terms", "startDate": "start_date", "endDate": "end_date",
            "entity": "client", "job": "engagement", "custbody_parent_contract": "parent"}
    return _present(attrs, body, keys)


OUTBOUND: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "customer": client_to_customer, "job": engagement_to_job, "salesOrder": contract_to_sales_order,
}
