"""Serve a platform emulator (a WSGI app) on a free local port for the duration of a test."""

import threading
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
        pass


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[Callable], str]]:
    """``base_url = serve_wsgi(app)``: the app answers real HTTP on 127.0.0.1 until the test ends."""
    servers = []

    def serve(app: Callable) -> str:
        server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
