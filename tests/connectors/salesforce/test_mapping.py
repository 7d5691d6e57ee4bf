"""The mapping reproduces the demo generator's Salesforce attributes and writes them back."""

from __future__ import annotations

import pytest

from canonical.demo import generate
from connectors.salesforce import mapping

DATA = generate(seed=42, clients=50)
COPIES = [s for g in (*DATA.clients, *DATA.engagements, *DATA.contracts) for s in g.sources
          if s.system == "salesforce" and s.object_type in mapping.OBJECTS]


def test_objects_and_fields() -> None:
    assert mapping.OBJECTS == {"Account": "client", "Opportunity": "engagement", "Contract": "contract"}
    for copy in COPIES:  # the connector selects every field the demo payloads carry
        assert set(copy.payload) - {"attributes"} <= set(mapping.FIELDS[copy.object_type])


def test_every_demo_payload_maps_to_the_demo_attributes() -> None:
    counts = {name: 0 for name in mapping.OBJECTS}
    for copy in COPIES:
        assert mapping.to_canonical(copy.object_type, copy.payload) == copy.attributes, copy.external_id
        counts[copy.object_type] += 1
    assert counts == {"Account": 50, "Opportunity": 100, "Contract": 171}


def test_references_are_object_type_and_id() -> None:
    contract = next(c for c in COPIES if c.object_type == "Contract" and c.payload["Parent_Contract__c"])
    attrs = mapping.contract_to_contract(contract.payload)
    assert attrs["client"] == {"object_type": "Account", "external_id": contract.payload["AccountId"]}
    assert attrs["parent"] == {"object_type": "Contract", "external_id": contract.payload["Parent_Contract__c"]}
    assert mapping.contract_to_contract({**contract.payload, "Opportunity__c": None})["engagement"] is None


@pytest.mark.parametrize("object_type", ["Account", "Opportunity", "Contract"])
def test_outbound_round_trips_through_inbound(object_type: str) -> None:
    for copy in (c for c in COPIES if c.object_type == object_type):
        fields = mapping.to_salesforce(object_type, copy.attributes)
        back = mapping.to_canonical(object_type, {**copy.payload, **fields})
        assert back == copy.attributes


def test_outbound_shapes() -> None:
    assert mapping.client_to_account({"display_name": "Acme", "website_domain": "acme.com",
                                      "parent": {"object_type": "Account", "external_id": "0015g0000012345AAA"},
                                      "country": "DE", "billing_region": ""}) == {
        "Name": "Acme", "Website": "https://www.acme.com", "ParentId": "0015g0000012345AAA",
        "BillingCountryCode": "DE", "BillingState": None}
    assert mapping.engagement_to_opportunity({"status": "pipeline", "budget_amount": "1200.50",
                                              "start_date": "2026-12-01"}) == {
        "StageName": "Qualification", "Amount": 1200.5, "Project_Start_Date__c": "2026-12-01",
        "CloseDate": "2026-12-01"}
    assert mapping.contract_to_salesforce({"start_date": "2026-01-15", "end_date": "2026-12-31", "kind": "sow",
                                           "status": "active", "value_amount": None}) == {
        "StartDate": "2026-01-15", "ContractTerm": 12, "Contract_Type__c": "SOW", "Status": "Activated",
        "Contract_Value__c": None}
    assert mapping.client_to_account({}) == {}


def test_domain_normalisation() -> None:
    assert mapping.domain("https://www.Acme.co.uk/about") == "acme.co.uk"
    assert mapping.domain("acme.com") == "acme.com"
    assert mapping.domain(None) is None
