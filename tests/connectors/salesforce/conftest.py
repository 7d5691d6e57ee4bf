"""Fixtures: an emulated org on a controllable clock, served over real HTTP, and a client/connector on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.emulator import Emulator, make_app

START = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
CONFIG = {"client_id_env": "SF_TEST_CLIENT_ID", "client_secret_env": "SF_TEST_CLIENT_SECRET"}


class FakeClock:
    """A clock the test moves by hand; the emulator and the connector share it."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Emulator:
    return make_app(seed=42, clients=50, clock=clock)


@pytest.fixture
def base_url(serve_wsgi, emulator: Emulator) -> str:
    return serve_wsgi(emulator)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("SF_TEST_CLIENT_SECRET", "concord-demo-secret")


@pytest.fixture
def client(base_url: str, credentials: None) -> Iterator[SalesforceClient]:
    sf = SalesforceClient(base_url=base_url, config=CONFIG)
    yield sf
    sf.close()


@pytest.fixture
def connector(base_url: str, credentials: None, clock: FakeClock) -> Iterator[SalesforceConnector]:
    conn = SalesforceConnector(base_url=base_url, config=CONFIG, clock=clock)
    yield conn
    conn.close()
