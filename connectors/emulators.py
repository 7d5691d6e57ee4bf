"""The platform emulators the demo and integration engineers run, and the demo credentials they accept.

Each emulator serves its platform's real URL shapes on a local port. The credentials below are the
emulators' own demo values, not secrets of any real system; connected systems read them from the
environment variables named in their config, like real credentials.
"""

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import Any, BinaryIO
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from connectors.netsuite.emulator import make_app as netsuite_app
from connectors.salesforce.emulator import make_app as salesforce_app


@dataclass(frozen=True)
class EmulatorSpec:
    factory: Callable
    port: int
    config: dict  # the connected system's config: which environment variables hold the credentials
    environment: dict = field(default_factory=dict)  # the demo values of those variables
    # The demo's subscription: the platform receives golden clients as this object, these attributes of them.
    clients: tuple[str, tuple[str, ...]] | None = None


EMULATORS: dict[str, EmulatorSpec] = {
    "salesforce": EmulatorSpec(
        salesforce_app, 8101,
        {"client_id_env": "SALESFORCE_CLIENT_ID", "client_secret_env": "SALESFORCE_CLIENT_SECRET"},
        {"SALESFORCE_CLIENT_ID": "concord-demo", "SALESFORCE_CLIENT_SECRET": "concord-demo-secret"},
        ("Account", ("legal_name", "display_name", "website_domain", "industry", "country", "billing_street",
                     "billing_city", "billing_postcode", "billing_country", "currency")),
    ),
    "netsuite": EmulatorSpec(
        netsuite_app, 8103,
        {"client_id_env": "NETSUITE_CLIENT_ID", "certificate_id_env": "NETSUITE_CERTIFICATE_ID",
         "private_key_env": "NETSUITE_PRIVATE_KEY"},
        {"NETSUITE_CLIENT_ID": "concord-demo", "NETSUITE_CERTIFICATE_ID": "concord-cert"},
        ("customer", ("legal_name", "website_domain", "tax_id", "country", "billing_street", "billing_city",
                      "billing_postcode", "billing_country", "currency")),
    ),
}


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """A thread per connection. Closing the server also closes the connections kept alive, which would
    otherwise go on being served after it (a platform that goes away drops its connections)."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _RequestBody:
    """``wsgi.input`` limited to the request's Content-Length: an app that reads past its body (``read()``)
    does not wait for the next request, and what it leaves unread is drained before the next one."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self.stream, self.left = stream, length

    def read(self, size: int | None = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.readline(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def drain(self) -> bool:
        """Read what the app left of the body; False when the client sent less than it announced (or left)."""
        try:
            while self.left:
                if not self.read(65536):
                    return False
        except OSError:
            return False
        return True


class _KeepAliveResponse(ServerHandler):
    """Answers in HTTP/1.1. A response the client cannot delimit (no Content-Length: a streamed body) or
    that went wrong half-way ends the connection, so the next response on it is never misread."""

    http_version = "1.1"

    def cleanup_headers(self) -> None:
        super().cleanup_headers()  # sets Content-Length when the body is one block
        if "Content-Length" not in self.headers:
            self.request_handler.close_connection = True
        if self.request_handler.close_connection:
            self.headers["Connection"] = "close"

    def finish_content(self) -> None:
        super().finish_content()
        if int(self.headers.get("Content-Length", -1)) != self.bytes_sent:
            self.request_handler.close_connection = True  # shorter or longer than announced

    def handle_error(self) -> None:
        # Before the headers: a 500 that announces its length, on a connection then closed; after them: the
        # body is cut short, and only closing the connection tells the client so.
        self.request_handler.close_connection = True
        super().handle_error()


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections, so a client's requests share one TCP connection instead of
    opening one each (wsgiref's own handler speaks HTTP/1.0 and closes after every response). A connection
    idle for ``timeout`` seconds is closed. A response leaves in one write where it fits the buffer, and
    without Nagle's delay: on a kept-alive connection, headers and body sent apart would each wait for the
    client's delayed ACK."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    wbufsize = -1
    disable_nagle_algorithm = True

    def handle_expect_100(self) -> bool:
        answered = super().handle_expect_100()
        self.wfile.flush()  # the client waits for this interim answer before it sends the body
        return answered

    def handle(self) -> None:
        BaseHTTPRequestHandler.handle(self)  # handle_one_request until the connection is to close

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle too long, or the client went away
            self.raw_requestline = b""
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error was answered, with Connection: close
            return
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            self.send_error(400, "Bad Content-Length")
            return
        if self.request_version != "HTTP/1.1" or self.command == "HEAD" or "Transfer-Encoding" in self.headers:
            self.close_connection = True  # no keep-alive handshake, no body to skip, or a body we cannot frame
        body = _RequestBody(self.rfile, int(length))
        response = _KeepAliveResponse(body, self.wfile, self.get_stderr(), self.get_environ(), multithread=False)
        response.request_handler = self
        response.run(self.server.get_app())
        try:
            self.wfile.flush()
        except OSError:  # the client went away
            self.close_connection = True
        if not body.drain():
            self.close_connection = True


class QuietHandler(KeepAliveHandler):
    def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
        pass


def emulator_serve(name: str, *, host: str = "127.0.0.1", port: int | None = None, seed: int = 42,
                   clients: int = 50) -> tuple[WSGIServer, str]:
    spec = EMULATORS[name]
    server = make_server(host, spec.port if port is None else port, spec.factory(seed=seed, clients=clients),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    return server, f"http://{host}:{server.server_port}"
