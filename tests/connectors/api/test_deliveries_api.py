"""Deliveries through the API: list with filters, one in detail, replay one dead letter or many (by ids or
by filter); scopes, problem details; and each system's circuit breaker."""

import datetime as dt

import pytest

from connectors.models import BreakerState, CircuitBreaker, Delivery, DeliveryStatus
from connectors.services.outbound import MAX_ATTEMPTS, outbox_relay
from hub import correlation
from hub.api import scopes
from tests.connectors.targets import deliver_all, golden_client, make_due

PROBLEM = "application/problem+json"


@pytest.fixture
def operator(make_api_client):
    return make_api_client(scopes.SYNC_READ, scopes.SYNC_REPLAY)


@pytest.fixture
def outbound(salesforce_target, settings):
    """Three clients sent to the Salesforce emulator: one delivered, two dead letters (503 on every attempt;
    the circuit breaker would stop them short of that, so here it never opens)."""
    settings.CONCORD_BREAKER_THRESHOLD = 1000
    emulator, system, _ = salesforce_target
    with correlation.bind("import-batch-12"):
        clients = [golden_client(name) for name in ("Wingtip Toys Limited", "Northwind Traders Limited",
                                                    "Contoso Holdings Limited")]
    outbox_relay()
    first = Delivery.objects.get(record_id=clients[0].pk)
    deliver_all_of([first])
    emulator.faults.inject("unavailable", times=2 * MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        make_due(Delivery.objects.filter(status=DeliveryStatus.PENDING))
        deliver_all()
    return emulator, system, clients


def deliver_all_of(deliveries):
    make_due(deliveries)
    Delivery.objects.exclude(pk__in=[d.pk for d in deliveries]).update(
        next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    deliver_all()


def ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def test_list_filters_by_status_system_entity_type_record_and_correlation_id(operator, outbound):
    _, _, clients = outbound
    dead = {str(pk) for pk in Delivery.objects.filter(status=DeliveryStatus.DEAD).values_list("pk", flat=True)}
    one = Delivery.objects.get(record_id=clients[1].pk)

    everything = operator.get("/api/v1/deliveries/")
    dead_letters = operator.get("/api/v1/deliveries/", {"status": "dead", "system": "salesforce",
                                                        "entity_type": "client"})
    by_golden_id = operator.get("/api/v1/deliveries/", {"record": clients[1].golden_id.lower()})
    by_uuid = operator.get("/api/v1/deliveries/", {"record": str(clients[1].pk)})
    other_system = operator.get("/api/v1/deliveries/", {"system": "netsuite"})
    by_correlation = operator.get("/api/v1/deliveries/", {"correlation_id": "import-batch-12"})
    bad_status = operator.get("/api/v1/deliveries/", {"status": "lost"})

    assert everything.status_code == 200 and len(everything.json()["results"]) == 3
    assert len(dead) == 2 and ids(dead_letters) == dead
    assert ids(by_golden_id) == ids(by_uuid) == {str(one.pk)}
    assert ids(other_system) == set()
    assert len(ids(by_correlation)) == 3
    assert bad_status.status_code == 400 and bad_status["Content-Type"] == PROBLEM


def test_one_delivery_shows_the_platforms_answer_attempts_and_correlation_id(operator, outbound):
    _, _, clients = outbound
    dead = Delivery.objects.get(record_id=clients[1].pk)

    body = operator.get(f"/api/v1/deliveries/{dead.pk}/").json()

    assert body["status"] == "dead" and body["system"] == "salesforce" and body["entity_type"] == "client"
    assert body["golden_id"] == clients[1].golden_id and body["object_type"] == "Account"
    assert (body["attempts"], body["max_attempts"]) == (MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert "HTTP 503" in body["last_error"]
    assert body["response"]["body"][0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert body["correlation_id"] == "import-batch-12"


def test_replaying_a_dead_letter_delivers_it_once_the_platform_is_back(operator, outbound):
    emulator, _, clients = outbound
    dead = Delivery.objects.get(record_id=clients[1].pk)

    response = operator.post(f"/api/v1/deliveries/{dead.pk}/replay/")
    body = response.json()
    make_due([dead])
    deliver_all()

    assert response.status_code == 200
    assert (body["status"], body["attempts"], body["replays"]) == ("pending", 0, 1)
    assert body["correlation_id"] == "import-batch-12"
    assert Delivery.objects.get(pk=dead.pk).status == DeliveryStatus.DELIVERED
    hub_ids = {r.get("Hub_Id__c") for r in emulator.store["Account"].values()}
    assert clients[1].golden_id in hub_ids


def test_replaying_what_is_not_a_dead_letter_is_a_conflict(operator, outbound):
    _, _, clients = outbound
    delivered = Delivery.objects.get(record_id=clients[0].pk)

    response = operator.post(f"/api/v1/deliveries/{delivered.pk}/replay/")

    assert response.status_code == 409 and response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["title"]) == (409, "Conflict")
    assert "delivered" in body["detail"]
    assert Delivery.objects.get(pk=delivered.pk).status == DeliveryStatus.DELIVERED


def test_replay_many_by_ids_by_filter_or_all(operator, outbound):
    _, _, clients = outbound
    dead = list(Delivery.objects.filter(status=DeliveryStatus.DEAD).order_by("created_at"))
    delivered = Delivery.objects.get(status=DeliveryStatus.DELIVERED)

    by_ids = operator.post("/api/v1/deliveries/replay/", {"ids": [str(dead[0].pk), str(delivered.pk)]},
                           format="json")
    again = operator.post("/api/v1/deliveries/replay/", {"ids": [str(dead[0].pk)]}, format="json")
    Delivery.objects.filter(pk=dead[0].pk).update(status=DeliveryStatus.DEAD)
    by_record = operator.post("/api/v1/deliveries/replay/", {"record": clients[2].golden_id}, format="json")
    Delivery.objects.filter(pk__in=[d.pk for d in dead]).update(status=DeliveryStatus.DEAD)
    by_system = operator.post("/api/v1/deliveries/replay/", {"system": "salesforce", "entity_type": "client"},
                              format="json")
    Delivery.objects.filter(pk__in=[d.pk for d in dead]).update(status=DeliveryStatus.DEAD)
    everything = operator.post("/api/v1/deliveries/replay/", {"all": True}, format="json")

    assert [r.json()["requeued"] for r in (by_ids, again, by_record, by_system, everything)] == [1, 0, 1, 2, 2]
    assert Delivery.objects.get(pk=delivered.pk).status == DeliveryStatus.DELIVERED
    assert [Delivery.objects.get(pk=d.pk).replays for d in dead] == [3, 3]


@pytest.mark.parametrize("body", [{}, {"all": False}, {"all": True, "system": "salesforce"},
                                  {"system": "sap"}, {"ids": ["not-a-uuid"]}])
def test_replay_many_refuses_a_selection_that_is_unclear(operator, outbound, body):
    response = operator.post("/api/v1/deliveries/replay/", body, format="json")

    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 400
    assert Delivery.objects.filter(status=DeliveryStatus.DEAD).count() == 2


def test_tokens_and_scopes(anonymous, make_api_client, outbound):
    dead = Delivery.objects.filter(status=DeliveryStatus.DEAD).first()
    reader = make_api_client(scopes.SYNC_READ)
    stranger = make_api_client(scopes.READ_CLIENTS)

    responses = {
        "anonymous list": anonymous.get("/api/v1/deliveries/"),
        "anonymous replay": anonymous.post(f"/api/v1/deliveries/{dead.pk}/replay/"),
        "stranger list": stranger.get("/api/v1/deliveries/"),
        "stranger breakers": stranger.get("/api/v1/circuit-breakers/"),
        "reader replay": reader.post(f"/api/v1/deliveries/{dead.pk}/replay/"),
        "reader replay many": reader.post("/api/v1/deliveries/replay/", {"all": True}, format="json"),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "anonymous list": 401, "anonymous replay": 401, "stranger list": 403, "stranger breakers": 403,
        "reader replay": 403, "reader replay many": 403}
    assert all(r["Content-Type"] == PROBLEM for r in responses.values())
    assert responses["reader replay"].json()["detail"] == "This endpoint requires the 'sync:replay' scope."
    assert reader.get("/api/v1/deliveries/").status_code == 200
    assert Delivery.objects.filter(status=DeliveryStatus.DEAD).count() == 2


@pytest.mark.parametrize("path", ["/api/v1/deliveries/4b9f6f4e-5d7e-4c1b-9a55-0c1f0f5d2a11/",
                                  "/api/v1/deliveries/not-a-delivery/",
                                  "/api/v1/deliveries/4b9f6f4e-5d7e-4c1b-9a55-0c1f0f5d2a11/replay/"])
def test_unknown_deliveries_are_404(operator, db, path):
    response = operator.post(path) if path.endswith("replay/") else operator.get(path)

    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 404


def test_circuit_breakers_list_every_system(operator, salesforce_target):
    _, system, _ = salesforce_target
    golden_client("Wingtip Toys Limited")  # its source system has never failed
    CircuitBreaker.objects.create(system=system, state=BreakerState.OPEN, consecutive_failures=10, trips=1,
                                  last_error="PATCH /composite: HTTP 503",
                                  next_probe_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60))

    body = operator.get("/api/v1/circuit-breakers/").json()

    by_system = {row["system"]: row for row in body}
    assert by_system["salesforce"]["state"] == "open" and by_system["salesforce"]["consecutive_failures"] == 10
    assert by_system["salesforce"]["next_probe_at"] and "503" in by_system["salesforce"]["last_error"]
    assert by_system["kantata"]["state"] == "closed" and by_system["kantata"]["consecutive_failures"] == 0
