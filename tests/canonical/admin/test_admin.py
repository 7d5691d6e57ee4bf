"""The admin: staff only, every golden record findable by name, golden id or any platform's id."""

import pytest
from django.urls import reverse

from canonical.services.golden import golden_record_create, source_record_stage
from tests.factories.canonical import ClientFactory, ConnectedSystemFactory


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("steward", "steward@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def golden(db):
    system = ConnectedSystemFactory(key="netsuite")
    source = source_record_stage(
        system=system, object_type="customer", external_id="CUST-4711", entity_type="client",
        attributes={"legal_name": "Fabrikam Gmbh", "country": "DE"}, payload={"id": "CUST-4711"},
    ).source_record
    ClientFactory(legal_name="Unrelated AG")
    return golden_record_create(entity_type="client", source_records=[source], reason="load")


def test_admin_refuses_anonymous_and_non_staff(client, django_user_model, golden):
    url = reverse("admin:canonical_client_changelist")
    assert client.get(url).status_code == 302

    client.force_login(django_user_model.objects.create_user("viewer", password="pw"))
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("term", ["Fabrikam", "CUST-4711"])
def test_find_a_client_by_name_or_a_platform_id(staff_client, golden, term):
    response = staff_client.get(reverse("admin:canonical_client_changelist"), {"q": term})

    assert response.status_code == 200
    content = response.content.decode()
    assert golden.golden_id in content
    assert "Unrelated AG" not in content


def test_find_a_client_by_golden_id(staff_client, golden):
    response = staff_client.get(reverse("admin:canonical_client_changelist"), {"q": golden.golden_id.lower()})

    assert golden.golden_id in response.content.decode()
    assert "Unrelated AG" not in response.content.decode()


def test_client_page_shows_sources_with_lineage_and_history(staff_client, golden):
    change = staff_client.get(reverse("admin:canonical_client_change", args=[golden.pk]))
    history = staff_client.get(reverse("admin:canonical_client_history", args=[golden.pk]))

    page = change.content.decode()
    assert "CUST-4711" in page and "legal_name (source_priority)" in page
    assert history.status_code == 200 and "load" in history.content.decode()


@pytest.mark.parametrize("model", ["client", "engagement", "milestone", "contract", "revenueevent", "sourcerecord",
                                   "connectedsystem", "changeevent", "glossaryterm", "matchconfiguration",
                                   "matchdecision", "potentialmatch", "notamatch"])
def test_every_changelist_renders(staff_client, golden, model):
    assert staff_client.get(reverse(f"admin:canonical_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", ["stream", "syncrun", "subscription", "delivery", "webhookevent"])
def test_every_connector_changelist_renders(staff_client, model):
    assert staff_client.get(reverse(f"admin:connectors_{model}_changelist")).status_code == 200
