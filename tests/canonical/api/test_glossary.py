"""The glossary through the API: search by synonym, filters, related terms."""

import pytest
from django.core.management import call_command

from hub.api import scopes


@pytest.fixture
def glossary_api(make_api_client, db):
    call_command("load_glossary", verbosity=0)
    return make_api_client(scopes.READ_GLOSSARY)


def test_search_finds_a_term_by_synonym(glossary_api):
    from canonical.models import GlossaryTerm

    term = GlossaryTerm.objects.exclude(synonyms=[]).order_by("slug").first()
    synonym = term.synonyms[0]

    rows = glossary_api.get("/api/v1/glossary/", {"search": synonym}).json()["results"]

    assert term.slug in [r["slug"] for r in rows]


def test_filter_by_domain_and_status(glossary_api):
    rows = glossary_api.get("/api/v1/glossary/", {"domain": "finance", "status": "approved", "page_size": 500})

    results = rows.json()["results"]
    assert results
    assert {(r["domain"], r["status"]) for r in results} == {("finance", "approved")}


def test_term_detail_has_platform_names_and_related_slugs(glossary_api):
    body = glossary_api.get("/api/v1/glossary/backlog/").json()

    assert body["name"] == "Backlog"
    assert body["related"] and all(isinstance(s, str) for s in body["related"])
    assert glossary_api.get(f"/api/v1/glossary/{body['related'][0]}/").status_code == 200
