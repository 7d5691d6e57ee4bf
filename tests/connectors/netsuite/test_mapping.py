"""The mapping reproduces the demo generator's NetSuite attributes, and outbound bodies map back to them."""

import pytest

from canonical.demo import generate
from connectors.netsuite import mapping

DATA = generate(seed=42, clients=50)


def _copies(object_type: str) -> list:
    specs = (*DATA.clients, *DATA.engagements, *DATA.contracts, *DATA.revenue_events)
    found = {s.external_id: s for spec in specs for s in spec.sources
             if s.system == "netsuite" and s.object_type == object_type}
    return list(found.values())


@pytest.mark.parametrize("object_type, count", [("customer", 50), ("job", 79), ("salesOrder", 121),
                                                ("invoice", 352)])
def test_inbound_reproduces_demo_attributes(object_type: str, count: int) -> None:
    copies = _copies(object_type)
    assert len(copies) == count
    mismatched = [c.external_id for c in copies if mapping.INBOUND[object_type](c.payload) != c.attributes]
    assert mismatched == []


@pytest.mark.parametrize("object_type", ["customer", "job", "salesOrder"])
def test_outbound_round_trips(object_type: str) -> None:
    for copy in _copies(object_type):
        body = mapping.OUTBOUND[object_type](copy.attributes)
        assert mapping.INBOUND[object_type](body) == copy.attributes


def test_references() -> None:
    order = next(c for c in _copies("salesOrder") if c.payload["custbody_contract_type"]["refName"] == "Change Order")
    attrs = mapping.sales_order_to_contract(order.payload)
    parent_id = order.payload["custbody_parent_contract"]["id"]
    assert attrs["parent"] == {"object_type": "salesOrder", "external_id": parent_id}
    assert attrs["client"] == {"object_type": "customer", "external_id": order.payload["entity"]["id"]}
    body = mapping.contract_to_sales_order(attrs)
    assert body["entity"] == {"id": order.payload["entity"]["id"]}


def test_partial_attributes_give_a_partial_body() -> None:
    assert mapping.client_to_customer({"legal_name": "Acme Ltd"}) == {"companyName": "Acme Ltd"}
    assert mapping.engagement_to_job({"status": "on_hold"}) == {"entityStatus": {"refName": "On Hold"}}
    assert mapping.OBJECTS == {"customer": "client", "job": "engagement", "salesOrder": "contract",
                               "invoice": "revenue_event"}
