"""Steward commands through the API: scopes, merge and its undo, unmerge, not a match, potential matches,
match decisions, and match-rule changes that apply only after a dry run."""

import datetime as dt

import pytest

from canonical.models import Client, NotAMatch, PotentialMatch, SourceRecord
from canonical.services.golden import source_record_stage
from canonical.services.matching import seed_rules, source_record_match
from hub.api import scopes
from tests.factories.canonical import ConnectedSystemFactory, EngagementFactory

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def arrive(key, external_id, **attributes):
    system = ConnectedSystemFactory(key=key)
    source = source_record_stage(
        system=system, object_type="Account", external_id=external_id, entity_type="client",
        attributes=attributes, payload={"id": external_id}, source_modified_at=T0,
    ).source_record
    source_record_match(source_record=source)
    source.refresh_from_db()
    return source


@pytest.fixture
def steward(make_api_client):
    return make_api_client(scopes.READ_CLIENTS, scopes.READ_ENGAGEMENTS, scopes.STEWARD_READ, scopes.STEWARD_WRITE,
                           scopes.MATCH_RULES_WRITE)


@pytest.fixture
def two_clients(db):
    a = arrive("netsuite", "1", legal_name="Cronus Foods Limited", country="GB")
    b = arrive("salesforce", "001A", legal_name="Coho Vineyard", country="US")
    return Client.objects.get(pk=a.golden_record_id), Client.objects.get(pk=b.golden_record_id)


def test_reader_cannot_merge(make_api_client, two_clients):
    survivor, merged = two_clients
    reader = make_api_client(scopes.READ_CLIENTS, scopes.STEWARD_READ)

    response = reader.post(f"/api/v1/clients/{survivor.golden_id}/merge/", {"merge": merged.golden_id, "reason": "x"})

    assert response.status_code == 403
    assert response.json()["detail"] == "This endpoint requires the 'steward:write' scope."
    assert Client.objects.filter(merged_into__isnull=False).count() == 0


def test_merge_keeps_the_loser_id_resolving_and_undo_brings_it_back(steward, two_clients):
    survivor, merged = two_clients
    engagement = EngagementFactory(client=merged)

    merge = steward.post(f"/api/v1/clients/{survivor.golden_id}/merge/",
                         {"merge": merged.golden_id, "reason": "same company"})
    via_alias = steward.get(f"/api/v1/clients/{merged.golden_id}/")
    via_crosswalk = steward.get("/api/v1/lookup/", {"system": "salesforce", "external_id": "001A"})
    listed = [r["golden_id"] for r in steward.get("/api/v1/clients/").json()["results"]]
    moved = steward.get(f"/api/v1/engagements/{engagement.golden_id}/").json()["client"]["golden_id"]
    undo = steward.post(f"/api/v1/clients/{merged.golden_id}/undo-merge/", {"reason": "wrong call"})
    history = steward.get(f"/api/v1/clients/{merged.golden_id}/history/").json()["results"]

    assert merge.status_code == 200 and merge.json()["golden_id"] == survivor.golden_id
    assert via_alias.status_code == 200 and via_alias.json()["golden_id"] == survivor.golden_id
    assert via_alias["X-Concord-Merged-From"] == merged.golden_id
    assert via_crosswalk.json()["golden_id"] == survivor.golden_id
    assert listed == [survivor.golden_id]
    assert moved == survivor.golden_id
    assert undo.status_code == 200 and undo.json()["golden_id"] == merged.golden_id
    assert steward.get(f"/api/v1/engagements/{engagement.golden_id}/").json()["client"]["golden_id"] == \
        merged.golden_id
    assert history[0]["change_reason"].startswith("undid the merge")
    assert any(h["change_reason"].startswith(f"merged {merged.golden_id}") for h in history)


def test_unmerge_into_a_new_record_and_not_a_match_is_remembered(steward, db):
    a = arrive("netsuite", "1", legal_name="Alpine Ski House Limited", tax_id="GB980780684", country="GB")
    b = arrive("salesforce", "001A", legal_name="Alpine Ski House", tax_id="GB980780684", country="GB")
    golden = Client.objects.get(pk=a.golden_record_id)

    response = steward.post(f"/api/v1/clients/{golden.golden_id}/unmerge/",
                            {"source_record": str(b.pk), "reason": "another Alpine"})
    wrong_source = steward.post(f"/api/v1/clients/{golden.golden_id}/unmerge/",
                                {"source_record": str(b.pk), "reason": "again"})

    assert response.status_code == 201
    new_id = response.json()["golden_id"]
    assert new_id != golden.golden_id
    assert steward.get("/api/v1/lookup/", {"system": "salesforce", "external_id": "001A"}).json()["golden_id"] == \
        new_id
    assert NotAMatch.objects.count() == 1
    assert wrong_source.status_code == 400 and "Not a source of" in wrong_source.json()["detail"]


def test_potential_match_queue_and_decisions(steward, db):
    arrive("netsuite", "1", legal_name="Lucerne Publishing GmbH", country="DE", billing_postcode="10115")
    arrive("salesforce", "001A", legal_name="Lucerne Publishing", country="DE")

    queue = steward.get("/api/v1/potential-matches/", {"status": "open"}).json()["results"]
    match = queue[0]
    decisions = steward.get(f"/api/v1/clients/{match['record_a_golden_id']}/decisions/").json()
    deferred = steward.post(f"/api/v1/potential-matches/{match['id']}/defer/", {"reason": "ask sales"})
    merged = steward.post(f"/api/v1/potential-matches/{match['id']}/merge/",
                          {"survivor": match["record_b_golden_id"], "reason": "same publisher"})
    again = steward.post(f"/api/v1/potential-matches/{match['id']}/not-a-match/", {"reason": "changed my mind"})

    assert len(queue) == 1 and 0.3 <= match["score"] < 0.95
    assert set(match["contributions"]) >= {"name", "country"}
    assert decisions and {"outcome", "score", "contributions"} <= set(decisions[0])
    assert deferred.json()["status"] == "deferred"
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert again.status_code == 400
    assert Client.objects.filter(merged_into__isnull=True).count() == 1


def test_potential_match_not_a_match(steward, db):
    arrive("netsuite", "1", legal_name="Lucerne Publishing GmbH", country="DE", billing_postcode="10115")
    arrive("salesforce", "001A", legal_name="Lucerne Publishing", country="DE")
    match = PotentialMatch.objects.get()

    response = steward.post(f"/api/v1/potential-matches/{match.pk}/not-a-match/", {"reason": "two publishers"})

    assert response.json()["status"] == "not_a_match"
    assert NotAMatch.objects.filter(record_a=match.record_a, record_b=match.record_b).exists()
    assert Client.objects.filter(merged_into__isnull=True).count() == 2


def test_rule_change_needs_the_dry_run_it_was_shown(steward, db):
    arrive("netsuite", "1", legal_name="Acme Consulting Limited", country="GB")
    arrive("salesforce", "001A", legal_name="Acme Consulting Ltd", country="IE")
    arrive("certinia", "a1", legal_name="Acme Consulting", country="IE")
    loose = seed_rules()["client"]
    loose["thresholds"] = {"match": 0.2, "review": 0.1}
    url = "/api/v1/match-rules/client/"

    before = steward.get(url).json()
    dry = steward.post(f"{url}dry-run/", {"spec": loose}, format="json").json()
    refused = steward.post(f"{url}apply/", {"spec": loose, "dry_run_id": "0" * 32}, format="json")
    applied = steward.post(f"{url}apply/", {"spec": loose, "dry_run_id": dry["dry_run_id"]}, format="json")
    after = steward.get(url).json()
    bad = steward.post(f"{url}dry-run/", {"spec": {"id": "id", "fields": []}}, format="json")

    assert dry["merges"] == 1 and dry["moves"] == 1 and dry["applied"] is False
    assert refused.status_code == 409
    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert (before["version"], after["version"]) == (1, 2)
    assert after["spec"]["thresholds"] == {"match": 0.2, "review": 0.1}
    assert Client.objects.filter(merged_into__isnull=True).count() == 2
    assert bad.status_code == 400 and "fields" in bad.json()["detail"]


def test_rule_changes_need_their_own_scope(make_api_client, db):
    steward_only = make_api_client(scopes.STEWARD_READ, scopes.STEWARD_WRITE)

    response = steward_only.post("/api/v1/match-rules/client/dry-run/", {"spec": seed_rules()["client"]},
                                 format="json")

    assert response.status_code == 403
    assert SourceRecord.objects.count() == 0


def test_override_pins_a_value_until_cleared(steward, db):
    a = arrive("netsuite", "1", legal_name="Fabrikam Limited", country="GB")
    golden = Client.objects.get(pk=a.golden_record_id)
    url = f"/api/v1/clients/{golden.golden_id}/"

    pinned = steward.post(f"{url}override/", {"attribute": "legal_name", "value": "Fabrikam Holdings Limited",
                                              "reason": "per Companies House"}, format="json")
    source_update = source_record_stage(
        system=ConnectedSystemFactory(key="netsuite"), object_type="Account", external_id="1", entity_type="client",
        attributes={"legal_name": "Fabrikam Ltd", "country": "GB"}, payload={"id": "1", "v": 2},
        source_modified_at=T0 + dt.timedelta(days=1),
    ).source_record
    source_record_match(source_record=source_update)
    while_pinned = steward.get(url).json()
    cleared = steward.post(f"{url}clear-override/", {"attribute": "legal_name", "reason": "source fixed"},
                           format="json")
    unknown = steward.post(f"{url}override/", {"attribute": "colour", "value": "red", "reason": "x"}, format="json")

    assert pinned.status_code == 200 and pinned.json()["legal_name"] == "Fabrikam Holdings Limited"
    assert pinned.json()["lineage"]["legal_name"]["rule"] == "steward_override"
    assert pinned.json()["overrides"]["legal_name"]["reason"] == "per Companies House"
    assert while_pinned["legal_name"] == "Fabrikam Holdings Limited"
    assert cleared.json()["legal_name"] == "Fabrikam Ltd" and cleared.json()["overrides"] == {}
    assert unknown.status_code == 400
