"""Emulators as subscribing targets of outbound tests (``serve_wsgi`` is in tests/conftest.py)."""

import threading
from collections.abc import Callable, Iterator
from wsgiref.simple_server import make_server

import pytest

from connectors import http
from connectors.emulators import QuietHandler, ThreadingServer
from connectors.models import Subscription
from connectors.netsuite.emulator import make_app as netsuite_emulator
from connectors.salesforce.emulator import make_app as salesforce_emulator
from tests.connectors.netsuite.conftest import CONFIG as NETSUITE_CONFIG
from tests.connectors.targets import HeaderLog
from tests.factories.canonical import ConnectedSystemFactory


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    """A test's emulators may get a port an earlier test's had: none of its pooled connections or tokens (kept
    per process) reach this one."""
    http.sessions_reset()
    yield
    http.sessions_reset()


class CountingServer(ThreadingServer):
    """The emulators' server, counting the TCP connections it accepts."""

    accepted = 0

    def process_request(self, request, client_address):
        self.accepted += 1
        super().process_request(request, client_address)


@pytest.fixture
def serve_counting() -> Iterator[Callable[[Callable], tuple[CountingServer, str]]]:
    """``server, base_url = serve_counting(app)``: like ``serve_wsgi``, and ``server.accepted`` counts."""
    servers = []

    def start(app: Callable) -> tuple[CountingServer, str]:
        server = make_server("127.0.0.1", 0, app, server_class=CountingServer, handler_class=QuietHandler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def salesforce_target(db, serve_wsgi, monkeypatch):
    """The Salesforce emulator over HTTP (behind a request-header log) subscribed to golden clients:
    ``emulator, system, headers``."""

    monkeypatch.setenv("SF_ID", "concord-demo")
    monkeypatch.setenv("SF_SECRET", "concord-demo-secret")
    emulator = salesforce_emulator(seed=42, clients=2)
    headers = HeaderLog(emulator)
    system = ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(headers),
                                    config={"client_id_env": "SF_ID", "client_secret_env": "SF_SECRET"})
    Subscription.objects.create(system=system, entity_type="client", object_type="Account",
                                fields=["legal_name", "display_name", "country", "website_domain"])
    return emulator, system, headers


@pytest.fixture
def netsuite_target(db, serve_wsgi, monkeypatch):
    """The NetSuite emulator over HTTP (429s ask for a 120 s pause) subscribed to golden clients."""

    monkeypatch.setenv("NS_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    monkeypatch.delenv("NS_TEST_PRIVATE_KEY", raising=False)
    emulator = netsuite_emulator(seed=42, clients=2, retry_after=120)
    system = ConnectedSystemFactory(key="netsuite", kind="netsuite", base_url=serve_wsgi(emulator),
                                    config=NETSUITE_CONFIG)
    Subscription.objects.create(system=system, entity_type="client", object_type="customer",
                                fields=["legal_name", "country"])
    return emulator, system


# Child processes (a real Celery worker) that use this test's database: the hub tests' fixtures.
from tests.hub.conftest import python, service_env  # noqa: E402, F401
