"""SalesforceClient against the emulator: auth, endpoints, error mapping, usage tracking."""

from __future__ import annotations

import pytest

from connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Retryable, Unavailable
from connectors.salesforce.client import MalformedResponse, SalesforceClient
from connectors.salesforce.emulator import Emulator, make_app

from .conftest import CONFIG

API = "/services/data/v62.0"


def _token_calls(emulator: Emulator) -> int:
    return len(emulator.requests_to("POST", "/services/oauth2/token"))


def test_authenticates_once_and_tracks_usage(client: SalesforceClient, emulator: Emulator) -> None:
    assert client.api_usage is None
    assert client.limits()["DailyApiRequests"]["Max"] == 100000
    assert client.api_usage == (1, 100000)
    client.query("SELECT Id FROM Account LIMIT 1")
    assert client.api_usage == (2, 100000)
    assert _token_calls(emulator) == 1
    assert client.instance_url == str(client.http.base_url).rstrip("/")


def test_bad_secret_is_auth_failed_without_the_secret(base_url: str, monkeypatch, caplog) -> None:
    monkeypatch.setenv("SF_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("SF_TEST_CLIENT_SECRET", "wrong-secret-value")
    sf = SalesforceClient(base_url=base_url, config=CONFIG)
    with pytest.raises(AuthFailed) as failure:
        sf.limits()
    assert failure.value.status == 400 and "invalid_grant" in str(failure.value)
    assert "wrong-secret-value" not in str(failure.value) + caplog.text + repr(failure.value.body)


def test_missing_env_var_names_the_variable(base_url: str, monkeypatch) -> None:
    monkeypatch.delenv("SF_TEST_CLIENT_ID", raising=False)
    with pytest.raises(AuthFailed, match="SF_TEST_CLIENT_ID is not set"):
        SalesforceClient(base_url=base_url, config=CONFIG).limits()


def test_query_and_query_more_follow_batches(serve_wsgi, credentials) -> None:
    emulator = make_app(clients=60)  # 207 contracts: two batches of up to 200
    sf = SalesforceClient(base_url=serve_wsgi(emulator), config={**CONFIG, "batch_size": 200})
    first = sf.query("SELECT Id FROM Contract ORDER BY Id")
    assert (first["totalSize"], len(first["records"]), first["done"]) == (len(emulator.store["Contract"]), 200, False)
    rest = sf.query_more(first["nextRecordsUrl"])
    assert rest["done"] is True and len(rest["records"]) == len(emulator.store["Contract"]) - 200
    with pytest.raises(Rejected):
        sf.query_more("https://elsewhere.example/steal")


def test_expired_token_reauthenticates_once(client: SalesforceClient, emulator: Emulator) -> None:
    client.limits()
    emulator.faults.inject("expire_token")
    assert client.query("SELECT Id FROM Account LIMIT 2")["totalSize"] == 2
    assert _token_calls(emulator) == 2
    assert len(emulator.requests_to("GET", f"{API}/query")) == 2  # the 401, then the retry


def test_token_expiring_twice_in_a_row_is_auth_failed(client: SalesforceClient, emulator: Emulator) -> None:
    client.limits()
    emulator.faults.inject("expire_token", times=2)
    with pytest.raises(AuthFailed) as failure:
        client.limits()
    assert failure.value.status == 401 and "INVALID_SESSION_ID" in str(failure.value)


@pytest.mark.parametrize(("kind", "error", "status"), [
    ("request_limit", RateLimited, 403), ("unavailable", Unavailable, 503), ("lock_row", Retryable, 400),
    ("malformed", MalformedResponse, 200),
])
def test_faults_map_to_the_error_family(client: SalesforceClient, emulator: Emulator, kind: str,
                                        error: type[ConnectorError], status: int) -> None:
    emulator.faults.inject(kind)
    with pytest.raises(error) as failure:
        client.query("SELECT Id FROM Account LIMIT 1")
    assert type(failure.value) is error and failure.value.status == status
    if kind == "request_limit":
        assert failure.value.retry_after is None and failure.value.retryable
        assert failure.value.body[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert client.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1  # one fault, then normal service


def test_usage_limit_exhausted_is_rate_limited(serve_wsgi, credentials) -> None:
    sf = SalesforceClient(base_url=serve_wsgi(make_app(api_usage_limit=2)), config=CONFIG)
    sf.limits()
    sf.limits()
    with pytest.raises(RateLimited):
        sf.limits()
    assert sf.api_usage == (3, 2)


def test_other_4xx_is_rejected_with_the_error_array(client: SalesforceClient) -> None:
    with pytest.raises(Rejected) as failure:
        client.query("SELECT Nope__c FROM Account")
    assert failure.value.status == 400 and not failure.value.retryable
    assert failure.value.body[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(Rejected) as missing:
        client.get("Account", "001000000000000AAA")
    assert missing.value.status == 404


def test_upsert_and_collection(client: SalesforceClient, emulator: Emulator) -> None:
    created = client.upsert("Account", "Hub_Id__c", "HUB/7 é", {"Name": "Slash & Co"})
    again = client.upsert("Account", "Hub_Id__c", "HUB/7 é", {"Industry": "Law"})
    assert (created["created"], again["created"], again["id"]) == (True, False, created["id"])
    assert emulator.store["Account"][created["id"]]["Hub_Id__c"] == "HUB/7 é"
    results = client.upsert_collection("Account", "Hub_Id__c", [{"Hub_Id__c": "HUB-1", "Name": "One"},
                                                                 {"Hub_Id__c": "HUB/7 é", "Name": "Seven"}])
    assert [(r["success"], r["created"]) for r in results] == [(True, True), (True, False)]
    with pytest.raises(ValueError):
        client.upsert_collection("Account", "Hub_Id__c", [{"Hub_Id__c": str(i)} for i in range(201)])
    assert client.get("Account", created["id"])["Name"] == "Seven"
