"""The OAuth 2.0 client-credentials flow against the emulator's token endpoint."""

import base64
import json

import httpx
import pytest

from connectors.errors import AuthFailed
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import Emulator
from tests.connectors.netsuite.conftest import CONFIG

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"


def _part(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_assertion_is_a_jwt_with_netsuite_claims(client: NetSuiteClient, base_url: str) -> None:
    header, payload, signature = client.client_assertion(now=1_700_000_000).split(".")
    assert _part(header) == {"typ": "JWT", "alg": "PS256", "kid": "concord-cert"}
    assert _part(payload) == {"iss": "concord-demo", "scope": "rest_webservices", "aud": base_url + TOKEN_PATH,
                              "iat": 1_700_000_000, "exp": 1_700_000_300}
    assert base64.urlsafe_b64decode(signature + "==") == b"unsigned"


def test_good_assertion_gets_a_bearer_token(client: NetSuiteClient, emulator: Emulator) -> None:
    token = client.authenticate()
    assert list(emulator.tokens) == [token]
    assert emulator.requests[-1].method == "POST" and emulator.requests[-1].path == TOKEN_PATH


def test_token_response_shape(client: NetSuiteClient, base_url: str) -> None:
    form = {"grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client.client_assertion()}
    response = httpx.post(base_url + TOKEN_PATH, data=form)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "token_type"]
    assert body["expires_in"] == "3600" and body["token_type"] == "Bearer"


@pytest.mark.parametrize("variable, value", [("NS_TEST_CLIENT_ID", "someone-else"),
                                             ("NS_TEST_CERT_ID", "other-cert")])
def test_wrong_client_or_certificate_is_invalid_client(client: NetSuiteClient, emulator: Emulator,
                                                       monkeypatch: pytest.MonkeyPatch, variable: str,
                                                       value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(AuthFailed) as caught:
        client.authenticate()
    assert caught.value.status == 400
    assert caught.value.body == {"error": "invalid_client"}
    assert emulator.tokens == {}


def test_garbage_assertion_is_invalid_client(base_url: str) -> None:
    form = {"grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "not-a-jwt"}
    response = httpx.post(base_url + TOKEN_PATH, data=form)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_client"})
    response = httpx.post(base_url + TOKEN_PATH, data={**form, "grant_type": "password"})
    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})


def test_missing_environment_variable_fails_before_any_request(base_url: str, emulator: Emulator, customer_id: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NS_TEST_CLIENT_ID", raising=False)
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    ns = NetSuiteClient(base_url=base_url, config=CONFIG)
    with pytest.raises(AuthFailed, match="NS_TEST_CLIENT_ID"):
        ns.get("customer", customer_id)
    assert emulator.requests == []


def test_api_call_without_token_is_netsuite_401(base_url: str, customer_id: str) -> None:
    response = httpx.get(f"{base_url}/services/rest/record/v1/customer/{customer_id}",
                         headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    body = response.json()
    assert body["title"] == "Unauthorized" and body["status"] == 401
    assert body["type"] == "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2"
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert body["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")
