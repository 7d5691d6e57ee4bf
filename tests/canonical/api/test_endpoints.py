"""The standard checks, run for every read endpoint: auth, scopes, list, detail, 404s and problem details."""

import pytest

from hub.api import scopes
from tests.factories.canonical import (
    ClientFactory,
    ConnectedSystemFactory,
    ContractFactory,
    EngagementFactory,
    GlossaryTermFactory,
    MilestoneFactory,
    RevenueEventFactory,
)

ENDPOINTS = [
    # (collection url, factory, scope, lookup attribute)
    ("/api/v1/clients/", ClientFactory, scopes.READ_CLIENTS, "golden_id"),
    ("/api/v1/engagements/", EngagementFactory, scopes.READ_ENGAGEMENTS, "golden_id"),
    ("/api/v1/milestones/", MilestoneFactory, scopes.READ_ENGAGEMENTS, "golden_id"),
    ("/api/v1/contracts/", ContractFactory, scopes.READ_CONTRACTS, "golden_id"),
    ("/api/v1/revenue-events/", RevenueEventFactory, scopes.READ_REVENUE_EVENTS, "golden_id"),
    ("/api/v1/glossary/", GlossaryTermFactory, scopes.READ_GLOSSARY, "slug"),
    ("/api/v1/systems/", ConnectedSystemFactory, scopes.READ_SYSTEMS, "key"),
]
IDS = [e[0].split("/")[3] for e in ENDPOINTS]


@pytest.mark.parametrize(("url", "factory", "scope", "lookup"), ENDPOINTS, ids=IDS)
def test_anonymous_caller_gets_401_problem(db, anonymous, url, factory, scope, lookup):
    obj = factory()

    for target in (url, f"{url}{getattr(obj, lookup)}/"):
        response = anonymous.get(target)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert response.json()["title"] == "Unauthorized"
        assert response["WWW-Authenticate"] == 'Bearer realm="concord"'


@pytest.mark.parametrize(("url", "factory", "scope", "lookup"), ENDPOINTS, ids=IDS)
def test_missing_scope_gets_403(make_api_client, url, factory, scope, lookup):
    obj = factory()
    other_scopes = [s for s in scopes.ALL if s != scope]
    client = make_api_client(*other_scopes)

    for target in (url, f"{url}{getattr(obj, lookup)}/"):
        response = client.get(target)
        assert response.status_code == 403
        assert response.json()["detail"] == f"This endpoint requires the '{scope}' scope."


@pytest.mark.parametrize(("url", "factory", "scope", "lookup"), ENDPOINTS, ids=IDS)
def test_scoped_caller_lists_and_retrieves(make_api_client, url, factory, scope, lookup):
    first, second = factory(), factory()
    client = make_api_client(scope)

    listing = client.get(url)
    detail = client.get(f"{url}{getattr(second, lookup)}/")

    assert listing.status_code == 200
    keys = [row[lookup] for row in listing.json()["results"]]
    assert str(getattr(first, lookup)) in keys and str(getattr(second, lookup)) in keys
    assert detail.status_code == 200
    assert detail.json()[lookup] == getattr(second, lookup)


@pytest.mark.parametrize(("url", "factory", "scope", "lookup"), ENDPOINTS, ids=IDS)
def test_unknown_record_is_404_problem(api, url, factory, scope, lookup):
    response = api.get(f"{url}does-not-exist/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_bad_token_is_401(db, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer cc_deadbeef_not-a-real-token")

    response = anonymous.get("/api/v1/clients/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_malformed_token_is_401(db, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    assert anonymous.get("/api/v1/clients/").status_code == 401


def test_disabled_client_is_401(make_api_client):
    client = make_api_client(scopes.READ_CLIENTS)
    client.record.is_active = False
    client.record.save()

    response = client.get("/api/v1/clients/")

    assert response.status_code == 401
    assert response.json()["detail"] == "This API client is disabled."


def test_staff_session_reads_everything_and_non_staff_does_not(db, django_user_model, anonymous):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    plain = django_user_model.objects.create_user("plain", password="x")
    ClientFactory()

    anonymous.force_login(plain)
    assert anonymous.get("/api/v1/clients/").status_code == 403
    anonymous.force_login(staff)
    assert anonymous.get("/api/v1/clients/").status_code == 200
    assert anonymous.get("/api/v1/clients/", HTTP_ACCEPT="text/html").status_code == 200


def test_token_last_used_is_recorded(make_api_client):
    client = make_api_client(scopes.READ_CLIENTS)
    assert client.record.last_used_at is None

    client.get("/api/v1/clients/")

    client.record.refresh_from_db()
    assert client.record.last_used_at is not None


def test_api_root_lists_resources(api):
    response = api.get("/api/v1/")

    assert response.status_code == 200
    assert {"clients", "engagements", "contracts", "revenue-events", "glossary"} <= set(response.json())


def test_throttled_client_gets_429_problem(make_api_client, monkeypatch):
    from hub.api.throttling import ApiClientRateThrottle

    monkeypatch.setattr(ApiClientRateThrottle, "rate", "2/min", raising=False)
    client = make_api_client(scopes.READ_CLIENTS)

    statuses = [client.get("/api/v1/clients/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    throttled = client.get("/api/v1/clients/")
    assert throttled.json()["status"] == 429 and "Retry-After" in throttled
