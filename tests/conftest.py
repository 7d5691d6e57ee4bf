"""Shared fixtures. Tests run against the real (embedded or configured) PostgreSQL and Redis."""

import threading
import uuid
from collections.abc import Callable, Iterator
from wsgiref.simple_server import make_server

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from connectors.emulators import QuietHandler, ThreadingServer
from hub import embedded
from hub.api import scopes
from hub.api.clients import api_client_create


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded servers if this test run is what started them (a running `make run` keeps its own)."""
    embedded.stop_started()


# The test client speaks plain HTTP; production's HTTPS redirect is tested on its own (test_settings).
settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def make_api_client(db):
    """An authenticated DRF test client for a consuming system with the given scopes."""

    def make(*scope_list: str, name: str | None = None) -> APIClient:
        record, token = api_client_create(name=name or f"consumer-{uuid.uuid4().hex[:12]}", scopes=list(scope_list))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.record = record
        client.token = token
        return client

    return make


@pytest.fixture
def api(make_api_client) -> APIClient:
    """A consuming system holding every read scope."""
    return make_api_client(*scopes.ALL, name="all-scopes")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[Callable], str]]:
    """``base_url = serve_wsgi(app)``: the app answers real HTTP on 127.0.0.1 until the test ends."""
    servers = []

    def serve(app: Callable) -> str:
        server = make_server("127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
