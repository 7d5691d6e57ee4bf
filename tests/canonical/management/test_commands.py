"""Management commands: glossary loading and API client administration, with clear errors."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from canonical.models import GlossaryTerm
from hub.models import ApiClient


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_glossary_seed_loads_once_with_real_terms():
    first = run("load_glossary")
    again = run("load_glossary")

    assert first.startswith("glossary: ") and "0 updated" in first
    assert " 0 created, 0 updated," in again
    count = GlossaryTerm.objects.count()
    assert count >= 30
    booking = GlossaryTerm.objects.get(slug="booking")
    assert booking.domain == "sales" and booking.status == "approved"
    assert booking.platform_names["salesforce"].startswith("Opportunity")
    assert booking.related.exists()
    assert {"backlog", "recognised-revenue", "deferred-revenue", "work-in-progress"} <= set(
        GlossaryTerm.objects.values_list("slug", flat=True)
    )


@pytest.mark.django_db
def test_glossary_file_with_unknown_related_term_is_refused_whole(tmp_path):
    path = tmp_path / "terms.json"
    path.write_text(json.dumps([
        {"slug": "alpha", "name": "Alpha", "definition": "A.", "domain": "sales", "owner": "Sales", "status": "draft"},
        {"slug": "beta", "name": "Beta", "definition": "B.", "domain": "sales", "owner": "Sales", "status": "draft",
         "related": ["gamma"]},
    ]))

    with pytest.raises(CommandError, match=r"unknown related terms \['gamma'\]"):
        run("load_glossary", "--file", str(path))

    assert not GlossaryTerm.objects.filter(slug__in=["alpha", "beta"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"slug": "x"}', "expected a JSON list"),
    ('[{"slug": "x", "name": "X"}]', "missing"),
])
def test_bad_glossary_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        run("load_glossary", "--file", str(path))


@pytest.mark.django_db
def test_api_client_create_prints_a_working_token_once(anonymous):
    out = run("api_client", "create", "finance-bi", "--scope", "read:clients", "--scope", "read:glossary")
    token = out.strip().splitlines()[-1].split(": ", 1)[1]
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert anonymous.get("/api/v1/clients/").status_code == 200
    assert anonymous.get("/api/v1/contracts/").status_code == 403
    stored = ApiClient.objects.get(name="finance-bi")
    assert token not in (stored.token_digest, stored.token_prefix)
    assert stored.scopes == ["read:clients", "read:glossary"]


@pytest.mark.django_db
def test_api_client_rotate_invalidates_the_old_token(anonymous):
    old = run("api_client", "create", "bi", "--scope", "read:clients").strip().splitlines()[-1].split(": ", 1)[1]
    new = run("api_client", "rotate", "bi").strip().split(": ", 1)[1]

    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    assert anonymous.get("/api/v1/clients/").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {new}")
    assert anonymous.get("/api/v1/clients/").status_code == 200


@pytest.mark.django_db
def test_api_client_unknown_scope_is_refused():
    with pytest.raises(CommandError, match="unknown scopes"):
        run("api_client", "create", "x", "--scope", "write:everything")

    assert not ApiClient.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_rematch_applies_only_the_dry_run_it_printed(tmp_path):
    import datetime as dt

    from canonical.models import Client
    from canonical.services.golden import source_record_stage
    from canonical.services.matching import seed_rules, source_record_match
    from tests.factories.canonical import ConnectedSystemFactory

    for key, external_id, name, country in [("netsuite", "1", "Acme Consulting Limited", "GB"),
                                            ("salesforce", "001A", "Acme Consulting Ltd", "IE"),
                                            ("certinia", "a1", "Acme Consulting", "IE")]:
        source = source_record_stage(system=ConnectedSystemFactory(key=key), object_type="Account",
                                     external_id=external_id, entity_type="client",
                                     attributes={"legal_name": name, "country": country}, payload={"id": external_id},
                                     source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).source_record
        source_record_match(source_record=source)
    rules = seed_rules()["client"]
    rules["thresholds"] = {"match": 0.2, "review": 0.1}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    live = Client.objects.filter(merged_into__isnull=True).count()

    report = json.loads(run("rematch", "client", "--rules", str(path)))
    with pytest.raises(CommandError, match="differs from the dry run"):
        run("rematch", "client", "--rules", str(path), "--apply", "0" * 32)
    unchanged = Client.objects.filter(merged_into__isnull=True).count()
    applied = json.loads(run("rematch", "client", "--rules", str(path), "--apply", report["dry_run_id"]))

    assert report["merges"] == 1 and report["applied"] is False
    assert unchanged == live
    assert applied["applied"] is True
    assert Client.objects.filter(merged_into__isnull=True).count() == live - 1


@pytest.mark.django_db
def test_rematch_bad_rules_file_is_a_clear_error(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"id": "id", "fields": [{"name": "x", "type": "colour"}]}))

    with pytest.raises(CommandError, match="invalid rules .*unknown type 'colour'"):
        run("rematch", "client", "--rules", str(path))


@pytest.mark.django_db
def test_rematch_rebuild_writes_every_view_again_as_matching_would():
    import datetime as dt

    from canonical.models import MatchCommonName, MatchRecord, SourceRecord
    from canonical.services.golden import source_record_stage
    from canonical.services.matching import source_record_match
    from tests.factories.canonical import ConnectedSystemFactory

    system = ConnectedSystemFactory(key="netsuite")
    for n, (name, domain) in enumerate([("Acme Consulting Limited", "acme.example"), ("Birch & Partners LLP", ""),
                                        ("Cedar Holdings Group plc", "cedar.example")]):
        source = source_record_stage(system=system, object_type="customer", external_id=str(n), entity_type="client",
                                     attributes={"legal_name": name, "website_domain": domain, "country": "GB"},
                                     payload={"id": n}, source_modified_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        source_record_match(source_record=source.source_record)
    fields = ("golden_record_id", "values", "block_keys", "name_key", "name_keys", "is_active")
    before = {v["source_record_id"]: v for v in MatchRecord.objects.values("source_record_id", *fields)}
    MatchRecord.objects.all().delete()
    MatchCommonName.objects.create(entity_type="client", key="~holdings")  # known too common since

    out, err = StringIO(), StringIO()
    call_command("rematch", "client", "--rebuild", stdout=out, stderr=err)

    after = {v["source_record_id"]: v for v in MatchRecord.objects.values("source_record_id", *fields)}
    assert "rebuilt 3 match views" in err.getvalue()
    assert set(after) == set(before) == set(SourceRecord.objects.values_list("pk", flat=True))
    for pk, view in before.items():
        expected = {**view, "name_keys": [k for k in view["name_keys"] if k != "~holdings"]}
        assert after[pk] == expected
    assert any("~holdings" in view["name_keys"] for view in before.values())
