"""Filtering, search, ordering, cursor pagination and ETags on the list endpoints."""

import pytest

from hub.api import scopes
from tests.factories.canonical import ClientFactory, EngagementFactory, MilestoneFactory, RevenueEventFactory


@pytest.fixture
def clients_api(make_api_client):
    return make_api_client(scopes.READ_CLIENTS)


def test_filter_by_country_and_status(clients_api):
    ClientFactory(country="DE", status="active")
    ClientFactory(country="DE", status="inactive")
    ClientFactory(country="GB", status="active")

    rows = clients_api.get("/api/v1/clients/", {"country": "DE", "status": "active"}).json()["results"]

    assert [(r["country"], r["status"]) for r in rows] == [("DE", "active")]


def test_search_matches_names_and_golden_id(clients_api):
    target = ClientFactory(legal_name="Northwind Analytics Limited", display_name="Northwind")
    ClientFactory(legal_name="Contoso GmbH", display_name="Contoso")

    by_name = clients_api.get("/api/v1/clients/", {"search": "northwind"}).json()["results"]
    by_id = clients_api.get("/api/v1/clients/", {"search": target.golden_id}).json()["results"]

    assert [r["golden_id"] for r in by_name] == [target.golden_id]
    assert [r["golden_id"] for r in by_id] == [target.golden_id]


def test_ordering_by_legal_name_descending(clients_api):
    for name in ("Bravo Ltd", "Alpha Ltd", "Charlie Ltd"):
        ClientFactory(legal_name=name)

    rows = clients_api.get("/api/v1/clients/", {"ordering": "-legal_name"}).json()["results"]

    assert [r["legal_name"] for r in rows] == ["Charlie Ltd", "Bravo Ltd", "Alpha Ltd"]


def test_cursor_pagination_walks_every_record_once(clients_api):
    created = {ClientFactory().golden_id for _ in range(7)}
    seen, url, pages = [], "/api/v1/clients/?page_size=3", 0

    while url:
        body = clients_api.get(url).json()
        seen += [r["golden_id"] for r in body["results"]]
        url, pages = body["next"], pages + 1

    assert pages == 3
    assert sorted(seen) == sorted(created)


def test_page_size_is_capped(clients_api, settings):
    for _ in range(3):
        ClientFactory()
    from hub.api.pagination import CursorPagination

    original = CursorPagination.max_page_size
    CursorPagination.max_page_size = 2
    try:
        body = clients_api.get("/api/v1/clients/", {"page_size": 1000}).json()
    finally:
        CursorPagination.max_page_size = original

    assert len(body["results"]) == 2
    assert body["next"] is not None


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"page_size": "lots"}, {"page_size": "0"}])
def test_malformed_paging_is_400_problem(clients_api, params):
    response = clients_api.get("/api/v1/clients/", params)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert set(body["errors"]) == set(params)


def test_unknown_filter_value_is_400(clients_api):
    response = clients_api.get("/api/v1/clients/", {"status": "bogus"})

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_etag_and_if_none_match_give_304(clients_api):
    client = ClientFactory()
    url = f"/api/v1/clients/{client.golden_id}/"

    first = clients_api.get(url)
    again = clients_api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    client.legal_name = "Renamed Ltd"
    client.save()
    after_change = clients_api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and first["ETag"]
    assert again.status_code == 304
    assert again.content == b""
    assert after_change.status_code == 200
    assert after_change["ETag"] != first["ETag"]


def test_retrieve_by_uuid_or_golden_id(clients_api):
    client = ClientFactory()

    by_uuid = clients_api.get(f"/api/v1/clients/{client.pk}/").json()
    by_golden = clients_api.get(f"/api/v1/clients/{client.golden_id.lower()}/").json()

    assert by_uuid == by_golden
    assert by_uuid["id"] == str(client.pk)


def test_client_shape(clients_api):
    parent = ClientFactory(legal_name="Group Holdings plc")
    client = ClientFactory(parent=parent, billing_street="1 Main St", billing_city="Leeds", billing_postcode="LS1 1AA",
                           billing_country="GB", tax_id="GB123456789")

    body = clients_api.get(f"/api/v1/clients/{client.golden_id}/").json()

    assert body["parent"] == {"id": str(parent.pk), "golden_id": parent.golden_id}
    assert body["billing_address"] == {
        "street": "1 Main St", "city": "Leeds", "region": "", "postcode": "LS1 1AA", "country": "GB",
    }
    assert body["tax_id"] == "GB123456789"
    assert body["version"] == 1
    assert body["golden_id"].startswith("CL-")


def test_engagement_includes_milestones_in_order(make_api_client):
    engagement = EngagementFactory()
    second = MilestoneFactory(engagement=engagement, sequence=2, name="Go-live")
    first = MilestoneFactory(engagement=engagement, sequence=1, name="Design")
    api = make_api_client(scopes.READ_ENGAGEMENTS)

    body = api.get(f"/api/v1/engagements/{engagement.golden_id}/").json()

    assert [m["golden_id"] for m in body["milestones"]] == [first.golden_id, second.golden_id]
    assert body["client"]["golden_id"] == engagement.client.golden_id
    assert body["budget_amount"] == "100000.00"


def test_engagement_list_query_count_is_constant(make_api_client, django_assert_max_num_queries):
    for _ in range(5):
        MilestoneFactory()
    api = make_api_client(scopes.READ_ENGAGEMENTS)

    # auth lookup, last-used update, page query, milestones prefetch (+ savepoints of the test client)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/engagements/")

    assert len(response.json()["results"]) == 5


def test_revenue_events_filter_by_period_range_and_kind(make_api_client):
    import datetime as dt

    RevenueEventFactory(kind="invoice_issued", occurred_on=dt.date(2026, 1, 10))
    march = RevenueEventFactory(kind="invoice_issued", occurred_on=dt.date(2026, 3, 10))
    RevenueEventFactory(kind="payment_received", occurred_on=dt.date(2026, 3, 20))
    api = make_api_client(scopes.READ_REVENUE_EVENTS)

    rows = api.get("/api/v1/revenue-events/", {"kind": "invoice_issued", "period_from": "2026-02"}).json()["results"]

    assert [r["golden_id"] for r in rows] == [march.golden_id]
    assert rows[0]["amount"] == "1000.00" and rows[0]["currency"] == "GBP"
