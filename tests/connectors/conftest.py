"""Serve a platform emulator (a WSGI app) on a free local port for the duration of a test."""

import threading
from collections.abc import Callable, Iterator
from wsgiref.simple_server import make_server

import pytest

from connectors.emulators import QuietHandler, ThreadingServer


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
