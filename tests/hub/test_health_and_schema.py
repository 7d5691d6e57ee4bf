"""Health endpoint, OpenAPI schema validity, Swagger UI, and correlation ids on responses."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_healthz_reports_database_and_redis(anonymous):
    response = anonymous.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_redis_down_as_503(anonymous, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = anonymous.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["status"] == "down"
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    text = target.read_text()
    assert "openapi: 3" in text
    for path in ("/api/v1/clients/", "/api/v1/changes/", "/api/v1/lookup/", "/api/v1/glossary/{slug}/"):
        assert f"  {path}:" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = anonymous.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Concord API"
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_correlation_id_is_echoed_or_made(api):
    supplied = api.get("/api/v1/clients/", HTTP_X_CORRELATION_ID="abc-123")
    made = api.get("/api/v1/clients/")
    hostile = api.get("/api/v1/clients/", HTTP_X_CORRELATION_ID="<script>" * 20)

    assert supplied["X-Correlation-ID"] == "abc-123"
    assert len(made["X-Correlation-ID"]) == 32
    assert hostile["X-Correlation-ID"] != "<script>" * 20
