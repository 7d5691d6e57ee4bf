"""Fixtures: a seeded NetSuite emulator served over real HTTP, and a client / connector pointed at it."""

from collections.abc import Iterator

import pytest

from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.connector import NetSuiteConnector
from connectors.netsuite.emulator import Emulator, make_app

CONFIG = {"client_id_env": "NS_TEST_CLIENT_ID", "certificate_id_env": "NS_TEST_CERT_ID",
          "private_key_env": "NS_TEST_PRIVATE_KEY"}


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NS_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    monkeypatch.delenv("NS_TEST_PRIVATE_KEY", raising=False)


@pytest.fixture
def emulator() -> Emulator:
    return make_app(seed=42, clients=50)


@pytest.fixture
def customer_id(emulator: Emulator) -> str:
    """The internal id of a customer of the emulator's demo data (the lowest), whatever the demo holds."""
    return min(emulator.store["customer"], key=int)


@pytest.fixture
def base_url(serve_wsgi, emulator: Emulator) -> str:
    return serve_wsgi(emulator)


@pytest.fixture
def client(base_url: str, credentials: None) -> Iterator[NetSuiteClient]:
    ns = NetSuiteClient(base_url=base_url, config=CONFIG)
    yield ns
    ns.close()


@pytest.fixture
def connector(base_url: str, credentials: None) -> Iterator[NetSuiteConnector]:
    conn = NetSuiteConnector(base_url=base_url, config={**CONFIG, "page_size": 20})
    yield conn
    conn.close()
