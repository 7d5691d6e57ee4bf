"""Record service and fault injection through the client: re-auth, 429, 503, malformed bodies, concurrency."""

import pytest

from connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Unavailable
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator

TOKEN = "/services/rest/auth/oauth2/v1/token"
RECORD = "/services/rest/record/v1/customer/"


def test_get_by_internal_and_external_id(client: NetSuiteClient, emulator: Emulator, base_url: str,
                                        customer_id: str) -> None:
    record = client.get("customer", customer_id)
    assert record["companyName"] == emulator.store["customer"][customer_id]["companyName"]
    assert record["companyName"] and record["externalId"] is None
    assert record["links"] == [{"rel": "self", "href": f"{base_url}{RECORD}{customer_id}"}]
    emulator.touch("customer", customer_id, externalId="HUB-1")  # an edit the store's externalId index follows
    assert client.get("customer", "eid:HUB-1")["id"] == customer_id
    with pytest.raises(Rejected) as caught:
        client.get("customer", "999999")
    assert caught.value.status == 404 and caught.value.body["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"


def test_upsert_by_external_id_creates_then_updates(client: NetSuiteClient, emulator: Emulator) -> None:
    before = len(emulator.store["customer"])
    created = client.upsert("customer", "HUB-000123", {"companyName": "Acme Ltd", "subsidiary": {"id": "1"}})
    assert len(emulator.store["customer"]) == before + 1
    updated = client.upsert("customer", "HUB-000123", {"companyName": "Acme Limited"})
    assert updated == created
    assert len(emulator.store["customer"]) == before + 1
    record = emulator.store["customer"][created]
    assert (record["companyName"], record["externalId"], record["subsidiary"]) == ("Acme Limited", "HUB-000123",
                                                                                    {"id": "1"})
    puts = [r for r in emulator.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"{RECORD}eid:HUB-000123"] * 2
    # The internal id continues the entity sequence (customers and jobs share it).
    entity_ids = [int(i) for t in ("customer", "job") for i in emulator.store[t] if i != created]
    assert int(created) == max(entity_ids) + 1


def test_location_header_and_204(client: NetSuiteClient, base_url: str) -> None:
    client.headers()
    response = client.http.put(f"{RECORD}eid:HUB-9", json={"companyName": "Nine"}, headers=client.headers())
    assert response.status_code == 204 and response.content == b""
    assert response.headers["Location"].startswith(f"{base_url}{RECORD}")
    created = client.http.post("/services/rest/record/v1/customer", json={"companyName": "Ten"},
                               headers=client.headers())
    assert created.status_code == 204
    first_id = int(response.headers["Location"].rpartition("/")[2])
    assert int(created.headers["Location"].rpartition("/")[2]) == first_id + 1


def test_expired_token_is_renewed_once_transparently(client: NetSuiteClient, emulator: Emulator,
                                                     customer_id: str) -> None:
    client.get("customer", customer_id)
    emulator.inject("expire_token")
    assert client.get("customer", customer_id)["id"] == customer_id
    assert emulator.count("POST", TOKEN) == 2
    assert emulator.count("GET", RECORD) == 3  # ok, 401, retried ok


def test_token_refused_twice_is_auth_failed(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    client.get("customer", customer_id)
    emulator.inject("expire_token", times=2)
    with pytest.raises(AuthFailed) as caught:
        client.get("customer", customer_id)
    assert caught.value.status == 401 and emulator.count("POST", TOKEN) == 2


def test_throttle_is_rate_limited_with_retry_after(client: NetSuiteClient, emulator: Emulator) -> None:
    emulator.inject("throttle")
    with pytest.raises(RateLimited) as caught:
        client.suiteql("SELECT id FROM customer")
    assert caught.value.retry_after == 5.0 and caught.value.status == 429 and caught.value.retryable
    assert caught.value.body["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert client.suiteql("SELECT id FROM customer")["totalResults"] == 50  # one fault, one call


def test_concurrency_limit_answers_429(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    client.authenticate()
    with emulator.occupy(5), pytest.raises(RateLimited):
        client.get("customer", customer_id)
    assert client.get("customer", customer_id)["id"] == customer_id


def test_unavailable_is_retryable(client: NetSuiteClient, emulator: Emulator, customer_id: str) -> None:
    emulator.inject("unavailable")
    with pytest.raises(Unavailable) as caught:
        client.get("customer", customer_id)
    assert caught.value.status == 503 and caught.value.retryable


def test_malformed_body_is_a_connector_error(client: NetSuiteClient, emulator: Emulator) -> None:
    emulator.inject("malformed")
    with pytest.raises(ConnectorError, match="malformed response body") as caught:
        client.suiteql("SELECT id FROM customer")
    assert caught.value.status == 200 and caught.value.body.startswith("<html>")


def test_unknown_fault_kind(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.inject("meteor")


def test_update_by_internal_id_may_set_the_external_id(client: NetSuiteClient, emulator: Emulator,
                                                       base_url: str) -> None:
    first, second = sorted(emulator.store["customer"])[:2]
    before = len(emulator.store["customer"])
    response = client.http.patch(f"{RECORD}{first}", json={"companyName": "Acme Limited", "externalId": "HUB-1"},
                                 headers=client.headers())
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["Location"] == f"{base_url}{RECORD}{first}"
    assert client.update("customer", second, {"companyName": "Beta Limited"}) == second
    assert (emulator.store["customer"][first]["companyName"], emulator.store["customer"][first]["externalId"]) == (
        "Acme Limited", "HUB-1")
    assert client.get("customer", "eid:HUB-1")["id"] == first
    with pytest.raises(Rejected) as taken:
        client.update("customer", second, {"externalId": "HUB-1"})
    assert taken.value.status == 400 and taken.value.body["o:errorDetails"] == [{
        "detail": "A record with the same external ID already exists.", "o:errorCode": "USER_ERROR",
        "o:errorPath": "externalId"}]
    emulator.delete("customer", second)
    with pytest.raises(Rejected) as gone:
        client.update("customer", second, {"companyName": "Beta"})
    assert gone.value.status == 404 and gone.value.body["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    assert len(emulator.store["customer"]) == before - 1
