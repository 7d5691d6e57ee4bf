"""The emulators' server speaks HTTP/1.1 with persistent connections: a client's requests share one TCP
connection, and every response is delimited (Content-Length) or ends its connection."""

import json
import re
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from wsgiref.simple_server import make_server

import httpx
import pytest

from connectors.emulators import QuietHandler, ThreadingServer
from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import make_app
from tests.connectors.netsuite.conftest import CONFIG


def _answer(body: bytes, status: str = "200 OK") -> Callable:
    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return [body]
    return app


def test_a_clients_requests_share_one_connection(serve_counting, monkeypatch) -> None:
    monkeypatch.setenv("NS_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    emulator = make_app(seed=42, clients=3)
    server, url = serve_counting(emulator)
    client = NetSuiteClient(base_url=url, config=CONFIG)
    customer_id = min(emulator.store["customer"], key=int)

    for _ in range(3):
        assert client.get("customer", customer_id)["id"] == customer_id
    page = client.suiteql("SELECT id FROM customer")
    missing = client.http.get("/services/rest/record/v1/customer/999999", headers=client.headers())

    assert page["totalResults"] == len(emulator.store["customer"]) and missing.status_code == 404
    assert emulator.count("POST", "/services/rest/auth") == 1 and len(emulator.requests) == 6
    assert server.accepted == 1


def test_a_streamed_body_arrives_whole_and_ends_its_connection(serve_counting) -> None:
    def streamed(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first, "
        yield b"second"

    server, url = serve_counting(streamed)
    with httpx.Client(base_url=url) as client:
        first = client.get("/")
        second = client.get("/")

    assert first.content == second.content == b"first, second"
    assert first.headers["Connection"] == "close" and "Content-Length" not in first.headers
    assert server.accepted == 2


def test_an_app_failing_before_answering_is_a_500_that_ends_its_connection(serve_counting) -> None:
    calls = []

    def failing_once(environ, start_response):
        calls.append(environ["PATH_INFO"])
        if len(calls) == 1:
            raise RuntimeError("the app broke")
        return _answer(b"fine")(environ, start_response)

    server, url = serve_counting(failing_once)
    with httpx.Client(base_url=url) as client:
        failed = client.get("/one")
        fine = client.get("/two")

    assert (failed.status_code, failed.headers["Connection"]) == (500, "close")
    assert int(failed.headers["Content-Length"]) == len(failed.content) > 0
    assert fine.content == b"fine" and server.accepted == 2


def test_a_body_cut_short_is_an_error_not_a_wait(serve_counting) -> None:
    def cut_short(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        yield b"12345"
        raise RuntimeError("the app broke half-way")

    _, url = serve_counting(cut_short)
    with httpx.Client(base_url=url, timeout=5) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_a_body_the_app_leaves_unread_does_not_spoil_the_next_request(serve_counting) -> None:
    server, url = serve_counting(_answer(b"ok"))  # never reads the request body
    with httpx.Client(base_url=url) as client:
        answers = [client.post("/", content=b"x" * 100_000).content for _ in range(3)]

    assert answers == [b"ok"] * 3 and server.accepted == 1


def test_closing_the_server_closes_the_connections_it_kept_alive(serve_counting) -> None:
    server, url = serve_counting(_answer(b"ok"))
    with httpx.Client(base_url=url) as client:
        assert client.get("/").content == b"ok"
        server.shutdown()
        server.server_close()
        with pytest.raises(httpx.TransportError):
            client.get("/")


class _StdlibHeaders(QuietHandler):
    """The emulators' server reading a request's line and headers with the standard library's parse_request."""

    parse_request = BaseHTTPRequestHandler.parse_request


def _echo(environ, start_response):
    """The request as the app sees it: its line, its headers and its body."""
    seen = {k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_", "PATH_", "QUERY_", "REQUEST_",
                                                               "SERVER_PROTOCOL"))}
    seen["body"] = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("latin-1")
    return _answer(json.dumps(seen, sort_keys=True).encode())(environ, start_response)


def _exchange(port: int, request: bytes) -> bytes:
    """What the server answers a request sent as these bytes (the client sends nothing more), its Date left out."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    return re.sub(rb"\r\nDate: [^\r]*", b"", answer)


@pytest.mark.parametrize("request_bytes", [
    b"POST /a%20b//c?x=1&y=%C3%A9 HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Pad: \t padded  \r\n"
    b"Content-Type: text/csv\r\nContent-Length: 5\r\nX-Empty:\r\nX-Latin: caf\xe9\r\n\r\nhello",
    b"GET //twice HTTP/1.1\nHost: h\nX-Bare-Newlines: 1\n\n",  # line feeds alone; a path starting with //
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Folded: one\r\n two\r\n\ttwo and a half\r\nX-After: 3\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nnot a header\r\nX-After: lost\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n: no name\r\nX-After: 4\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Carriage: 1\r2\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Cut: short",  # the client stops before the header block ends
    b"GET / HTTP/1.1\r\nHost: h\r\n",  # or before the blank line that ends it
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + b"x" * 70_000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %d\r\n" % (n, n) for n in range(101)) + b"\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\nGET /second HTTP/1.0\r\n\r\n",
    b"GET /\r\n\r\n", b"POST /\r\n\r\n", b"GET / HTTP/1.x\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n", b"GET\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n", b"\r\n",
])
def test_a_request_is_read_as_the_standard_library_reads_it(request_bytes: bytes) -> None:
    """The server reads a plain header block itself (the email parser cost a third of a request's CPU): what the
    app sees and what the client is answered are what the standard library's reading gives, whatever comes."""
    answers = []
    for handler in (QuietHandler, _StdlibHeaders):
        server = make_server("127.0.0.1", 0, _echo, server_class=ThreadingServer, handler_class=handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        try:
            answers.append(_exchange(server.server_port, request_bytes))
        finally:
            server.shutdown()
            server.server_close()
    assert answers[0] == answers[1]
    assert answers[0] or request_bytes == b"\r\n"  # answered (an HTTP/0.9 request without a status line)
