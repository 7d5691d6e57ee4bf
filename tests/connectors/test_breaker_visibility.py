"""Operators see each system's circuit breaker: in sync_status, in the admin (where they can close it),
and as counts in /healthz, which stays 200: a platform being down is not the hub being down."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from connectors.models import BreakerState, CircuitBreaker
from tests.factories.canonical import ConnectedSystemFactory


@pytest.fixture
def open_breaker(db):
    ConnectedSystemFactory(key="netsuite", kind="netsuite")
    system = ConnectedSystemFactory(key="salesforce")
    return CircuitBreaker.objects.create(
        system=system, state=BreakerState.OPEN, consecutive_failures=10, trips=2, opened_at=dt.datetime.now(dt.UTC),
        next_probe_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=100), last_error="PATCH /composite: HTTP 503")


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("operator", "ops@example.com", "pw"))
    return client


def test_sync_status_shows_each_systems_circuit(open_breaker):
    out = StringIO()

    call_command("sync_status", stdout=out)

    lines = {line.split()[0]: line for line in out.getvalue().splitlines() if line.strip()}
    assert lines["salesforce"].split()[1:3] == ["open", "10"]
    assert "HTTP 503" in lines["salesforce"]
    assert lines["netsuite"].split()[1:3] == ["closed", "0"]


# The connected system's form (canonical's) has a URL field that warns about Django 6's default scheme.
@pytest.mark.filterwarnings("ignore:The default scheme will be changed")
def test_the_admin_shows_the_circuit_and_closes_it(staff_client, open_breaker):
    systems = staff_client.get(reverse("admin:canonical_connectedsystem_changelist")).content.decode()
    system = staff_client.get(reverse("admin:canonical_connectedsystem_change", args=[open_breaker.pk]))
    breakers = staff_client.get(reverse("admin:connectors_circuitbreaker_changelist"))
    closed = staff_client.post(reverse("admin:connectors_circuitbreaker_changelist"),
                               {"action": "close_breakers", "_selected_action": [str(open_breaker.pk)]})

    assert "open" in systems and "closed" in systems
    assert system.status_code == 200 and "HTTP 503" in system.content.decode()
    assert breakers.status_code == 200 and "HTTP 503" in breakers.content.decode()
    assert closed.status_code == 302
    breaker = CircuitBreaker.objects.get()
    assert (breaker.state, breaker.consecutive_failures, breaker.next_probe_at) == (BreakerState.CLOSED, 0, None)


def test_healthz_counts_open_circuits_and_stays_healthy(anonymous, open_breaker):
    response = anonymous.get("/healthz")

    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["platforms"] == {"circuits_open": 1, "circuits_half_open": 0, "throttled": 0}
    assert "salesforce" not in response.content.decode()  # public: counts, not names
