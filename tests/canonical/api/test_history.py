"""History of a record, as-of reads, sources with lineage, and crosswalk lookups."""

import datetime as dt

import pytest
from django.utils import timezone

from canonical.services.golden import golden_record_create, golden_record_recompute, source_record_stage
from hub import correlation
from hub.api import scopes
from tests.factories.canonical import ClientFactory, ConnectedSystemFactory, EngagementFactory, MilestoneFactory

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def systems(db):
    return ConnectedSystemFactory(key="salesforce"), ConnectedSystemFactory(key="netsuite")


def _stage(system, external_id, modified, **attributes):
    object_type = "Account" if system.key == "salesforce" else "customer"
    return source_record_stage(
        system=system, object_type=object_type, external_id=external_id, entity_type="client",
        attributes=attributes, payload={"id": external_id, **attributes}, source_modified_at=modified,
    ).source_record


@pytest.fixture
def golden_client(systems):
    salesforce, netsuite = systems
    with correlation.bind("corr-create"):
        sf = _stage(salesforce, "001A", T0, legal_name="Acme Ltd", display_name="Acme", country="GB")
        ns = _stage(netsuite, "77", T0, legal_name="Acme Limited", tax_id="GB999999973", country="GB")
        return golden_record_create(entity_type="client", source_records=[sf, ns], reason="initial load")


def test_history_lists_versions_with_reason_correlation_and_changes(api, golden_client, systems):
    salesforce, _ = systems
    with correlation.bind("corr-rename"):
        _stage(salesforce, "001A", T0 + dt.timedelta(days=1), legal_name="Acme Ltd", display_name="Acme Group",
               country="GB")
        golden_record_recompute(record=golden_client, reason="salesforce update")

    body = api.get(f"/api/v1/clients/{golden_client.golden_id}/history/").json()

    newest, oldest = body["results"]
    assert newest["history_type"] == "changed"
    assert newest["change_reason"] == "salesforce update"
    assert newest["correlation_id"] == "corr-rename"
    assert newest["version"] == 2
    assert newest["changes"]["display_name"] == {"old": "Acme", "new": "Acme Group"}
    assert set(newest["changes"]) == {"display_name", "version"}
    assert oldest["history_type"] == "created"
    assert oldest["correlation_id"] == "corr-create"
    assert oldest["changes"]["legal_name"] == {"old": None, "new": "Acme Limited"}


def test_as_of_answers_from_history(api, golden_client, systems):
    salesforce, _ = systems
    before_rename = timezone.now()
    _stage(salesforce, "001A", T0 + dt.timedelta(days=1), legal_name="Acme Ltd", display_name="Acme Group",
           country="GB")
    golden_record_recompute(record=golden_client, reason="rename")
    url = f"/api/v1/clients/{golden_client.golden_id}/"

    now = api.get(url).json()
    then = api.get(url, {"as_of": before_rename.isoformat()}).json()
    listed_then = api.get("/api/v1/clients/", {"as_of": before_rename.isoformat()}).json()["results"]
    before_creation = api.get(url, {"as_of": "2000-01-01T00:00:00Z"})

    assert now["display_name"] == "Acme Group" and now["version"] == 2
    assert then["display_name"] == "Acme" and then["version"] == 1
    assert [r["display_name"] for r in listed_then] == ["Acme"]
    assert before_creation.status_code == 404


def test_as_of_engagement_shows_the_milestones_of_that_instant(make_api_client):
    engagement = EngagementFactory()
    MilestoneFactory(engagement=engagement, name="Design", sequence=1)
    instant = timezone.now()
    MilestoneFactory(engagement=engagement, name="Build", sequence=2)
    api = make_api_client(scopes.READ_ENGAGEMENTS)

    then = api.get(f"/api/v1/engagements/{engagement.golden_id}/", {"as_of": instant.isoformat()}).json()
    now = api.get(f"/api/v1/engagements/{engagement.golden_id}/").json()

    assert [m["name"] for m in then["milestones"]] == ["Design"]
    assert [m["name"] for m in now["milestones"]] == ["Design", "Build"]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-02-30T10:00:00Z", "1"])
def test_bad_as_of_is_400_naming_the_parameter(api, bad):
    ClientFactory()

    for url in ("/api/v1/clients/", f"/api/v1/clients/{ClientFactory().golden_id}/"):
        response = api.get(url, {"as_of": bad})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["as_of"]


def test_sources_show_each_copy_and_what_it_supplies(api, golden_client):
    body = api.get(f"/api/v1/clients/{golden_client.golden_id}/sources/").json()

    by_system = {s["system"]: s for s in body}
    assert set(by_system) == {"salesforce", "netsuite"}
    assert by_system["netsuite"]["external_id"] == "77"
    # The ERP is authoritative for legal name and tax id; the CRM for the display name.
    assert {"legal_name", "tax_id"} <= set(by_system["netsuite"]["supplies"])
    assert "display_name" in by_system["salesforce"]["supplies"]
    lineage = api.get(f"/api/v1/clients/{golden_client.golden_id}/").json()["lineage"]
    assert lineage["legal_name"]["system"] == "netsuite"
    assert lineage["legal_name"]["rule"] == "source_priority"
    assert lineage["legal_name"]["source_record"] == by_system["netsuite"]["id"]


def test_lookup_by_any_systems_id(api, golden_client):
    via_salesforce = api.get("/api/v1/lookup/", {"system": "salesforce", "external_id": "001A"})
    via_netsuite = api.get("/api/v1/lookup/", {"system": "netsuite", "external_id": "77", "object_type": "customer"})

    assert via_salesforce.status_code == 200
    assert via_salesforce.json()["golden_id"] == golden_client.golden_id
    assert via_salesforce.json()["entity_type"] == "client"
    assert via_salesforce.json()["url"].endswith(f"/api/v1/clients/{golden_client.golden_id}/")
    assert via_netsuite.json()["id"] == str(golden_client.pk)
    assert via_netsuite.json()["source_record"]["system"] == "netsuite"


def test_lookup_errors(api, golden_client, make_api_client):
    unknown_system = api.get("/api/v1/lookup/", {"system": "sap", "external_id": "1"})
    missing = api.get("/api/v1/lookup/", {"system": "salesforce"})
    not_found = api.get("/api/v1/lookup/", {"system": "salesforce", "external_id": "nope"})
    no_scope = make_api_client(scopes.READ_CONTRACTS).get(
        "/api/v1/lookup/", {"system": "salesforce", "external_id": "001A"}
    )

    assert unknown_system.status_code == 400
    assert "Unknown system 'sap'" in unknown_system.json()["detail"]
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["external_id"]
    assert not_found.status_code == 404
    assert no_scope.status_code == 403
