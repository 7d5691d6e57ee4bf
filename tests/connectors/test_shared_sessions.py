"""A process reuses one pooled connection and one access token per platform and credentials across the
connectors it makes (one per pull, one per delivery batch); a refused token is renewed once; a forked
worker starts its own."""

import os
import time

import pytest

from connectors.errors import AuthFailed
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.connector import NetSuiteConnector
from connectors.netsuite.emulator import make_app as netsuite_app
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.emulator import make_app as salesforce_app
from tests.connectors.netsuite.conftest import CONFIG as NETSUITE_CONFIG
from tests.connectors.salesforce.conftest import CONFIG as SALESFORCE_CONFIG

SF_TOKEN, NS_TOKEN = "/services/oauth2/token", "/services/rest/auth/oauth2/v1/token"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"SF_TEST_CLIENT_ID": "concord-demo", "SF_TEST_CLIENT_SECRET": "concord-demo-secret",
                        "NS_TEST_CLIENT_ID": "concord-demo", "NS_TEST_CERT_ID": "concord-cert"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NS_TEST_PRIVATE_KEY", raising=False)


def _pull(connector: SalesforceConnector | NetSuiteConnector, object_type: str) -> int:
    return sum(len(page.changes) for page in connector.read_changes(object_type, None))


def test_connectors_of_one_system_share_a_token_and_a_connection(serve_counting, credentials, caplog) -> None:
    caplog.set_level("DEBUG")
    emulator = salesforce_app(clients=5)
    server, url = serve_counting(emulator)

    first = SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG)
    pulled = _pull(first, "Account")
    first.close()
    second = SalesforceConnector(base_url=url + "/", config=SALESFORCE_CONFIG)

    assert _pull(second, "Account") == pulled == len(emulator.store["Account"])
    assert len(emulator.requests_to("POST", SF_TOKEN)) == 1 and server.accepted == 1
    (token,) = emulator.sessions._tokens
    assert token not in caplog.text


def test_a_revoked_session_is_renewed_once_for_every_connector(serve_wsgi, credentials) -> None:
    emulator = salesforce_app(clients=5)
    url = serve_wsgi(emulator)
    first = SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG)
    _pull(first, "Account")

    emulator.faults.inject("expire_token")
    _pull(first, "Account")  # 401 INVALID_SESSION_ID, a new token, the query again
    _pull(SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG), "Account")

    assert len(emulator.requests_to("POST", SF_TOKEN)) == 2
    assert len(emulator.requests_to("GET", "/services/data/v62.0/query")) == 4


def test_an_expired_netsuite_token_is_renewed_once(serve_wsgi, credentials) -> None:
    emulator = netsuite_app(clients=5)
    url = serve_wsgi(emulator)
    config = {**NETSUITE_CONFIG, "page_size": 1000}
    pulled = _pull(NetSuiteConnector(base_url=url, config=config), "customer")

    emulator.inject("expire_token")  # every token issued so far is revoked
    assert _pull(NetSuiteConnector(base_url=url, config=config), "customer") == pulled
    assert _pull(NetSuiteConnector(base_url=url, config=config), "customer") == pulled

    assert emulator.count("POST", NS_TOKEN) == 2
    assert emulator.count("POST", "/services/rest/query/v1/suiteql") == 4  # one refused, then retried


def test_a_token_is_renewed_before_its_life_ends(serve_wsgi, credentials, monkeypatch) -> None:
    monkeypatch.setattr(NetSuiteClient, "TOKEN_LIFETIME_S", 60.5)  # renewed half a second after it was minted
    emulator = netsuite_app(clients=5)
    url = serve_wsgi(emulator)
    customer_id = min(emulator.store["customer"], key=int)

    NetSuiteClient(base_url=url, config=NETSUITE_CONFIG).get("customer", customer_id)
    NetSuiteClient(base_url=url, config=NETSUITE_CONFIG).get("customer", customer_id)
    time.sleep(0.6)
    NetSuiteClient(base_url=url, config=NETSUITE_CONFIG).get("customer", customer_id)

    assert emulator.count("POST", NS_TOKEN) == 2 and emulator.count("GET", "/services/rest/record") == 3


def test_a_token_is_never_lent_to_other_credentials(serve_wsgi, credentials, monkeypatch) -> None:
    emulator = salesforce_app(clients=5)
    url = serve_wsgi(emulator)
    SalesforceClient(base_url=url, config=SALESFORCE_CONFIG).limits()

    monkeypatch.setenv("SF_TEST_CLIENT_SECRET", "another-secret")
    with pytest.raises(AuthFailed):
        SalesforceClient(base_url=url, config=SALESFORCE_CONFIG).limits()
    assert len(emulator.requests_to("POST", SF_TOKEN)) == 2


def test_a_forked_worker_starts_its_own_connection_and_token(serve_counting, credentials) -> None:
    emulator = salesforce_app(clients=5)
    server, url = serve_counting(emulator)
    pulled = _pull(SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG), "Account")

    child = os.fork()
    if child == 0:  # the child: a prefork worker's first pull
        code = 1
        try:
            code = 0 if _pull(SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG), "Account") == pulled else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert _pull(SalesforceConnector(base_url=url, config=SALESFORCE_CONFIG), "Account") == pulled
    assert len(emulator.requests_to("POST", SF_TOKEN)) == 2 and server.accepted == 2
